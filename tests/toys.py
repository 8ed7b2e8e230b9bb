"""A miniature synthetic-anomaly data set shared by the tests of training, the explainer and the zoo."""

import numpy as np

from tsinsight.data import Dataset, Split


def toy_dataset(
    n_train=192, n_val=64, n_test=64, channels=3, length=24, seed=0, name="toy", evidence=False, **details
) -> Dataset:
    """Gaussian noise; class 1 carries a spike on channel 1 or 2 (never channel 0, like the synthetic anomalies);
    ``evidence``: each split records where the spikes are (``Split.evidence``)."""
    rng = np.random.default_rng(seed)

    def split(n):
        x = rng.normal(size=(n, channels, length)).astype(np.float32)
        y = rng.integers(0, 2, size=n)
        where = np.zeros(x.shape, dtype=bool)
        for i in np.flatnonzero(y):
            channel, step = rng.integers(1, channels), rng.integers(0, length)
            x[i, channel, step] += 6.0
            where[i, channel, step] = True
        return Split(x, y, where if evidence else None)

    return Dataset(name, split(n_train), split(n_val), split(n_test), 2, channels, length, **details)


def toy_exploration(
    name="toy", rungs=3, series=2, channels=2, length=20, methods=("tsinsight", "gradient", "random"), chosen=1, seed=0
) -> dict:
    """What ``experiments.explore.explorer_data`` returns, made up: every rung's output and every method differ."""
    import pandas as pd

    from tsinsight.tuning import COLUMNS, reasons

    rng = np.random.default_rng(seed)
    ladder = pd.DataFrame({column: np.linspace(0.1, 0.9, rungs) for column in COLUMNS})
    ladder = ladder.assign(gamma=1.0, beta=[1e-3 * 3**i for i in range(rungs)], ratio=[0.1 * 3**i for i in range(rungs)],
                           epochs=20, converged=True, accurate=[i <= chosen for i in range(rungs)], comparable=True,
                           accuracy_change=-0.001, accuracy_change_low=[-0.005 - 0.01 * i for i in range(rungs)],
                           sign_agreement=0.9, kept_correlation=0.8, n_judged=64)  # fmt: skip
    ladder["trade_off"] = ladder["sparsity"] + ladder["kept_correlation"]
    ladder["qualifies"] = ladder["accurate"]
    ladder["chosen"] = ladder.index == chosen
    levels = np.linspace(0, 1, 5)
    curves = pd.DataFrame([dict(method=m, level=level, accuracy=1 - level * (i + 1) / 10)
                           for i, m in enumerate(["none", *methods]) for level in levels])  # fmt: skip
    x = rng.normal(size=(series, channels, length)).astype(np.float32)
    return dict(
        dataset=name, label=name.title(), channels=[f"c{c}" for c in range(channels)], classes=["a", "b"],
        series=list(range(0, 2 * series, 2)), y=np.arange(series) % 2, x=x,
        ladder=ladder.assign(reason=reasons(ladder)), chosen_rung=chosen, fell_back=False,
        outputs=np.stack([x * (rungs - i) / rungs for i in range(rungs)]).astype(np.float32),
        near_zero=rng.uniform(size=(rungs, series)), predictions=rng.integers(0, 2, size=(rungs, series)),
        methods=list(methods), attributions=rng.uniform(size=(len(methods), series, channels, length)).astype(np.float32),
        curves=curves,
    )  # fmt: skip
