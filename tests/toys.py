"""A miniature synthetic-anomaly data set shared by the tests of training, the explainer and the zoo."""

import numpy as np

from tsinsight.data import Dataset, Split


def toy_dataset(n_train=192, n_val=64, n_test=64, channels=3, length=24, seed=0, name="toy", **details) -> Dataset:
    """Gaussian noise; class 1 carries a spike on channel 1 or 2 (never channel 0, like the synthetic anomalies)."""
    rng = np.random.default_rng(seed)

    def split(n):
        x = rng.normal(size=(n, channels, length)).astype(np.float32)
        y = rng.integers(0, 2, size=n)
        for i in np.flatnonzero(y):
            x[i, rng.integers(1, channels), rng.integers(0, length)] += 6.0
        return Split(x, y)

    return Dataset(name, split(n_train), split(n_val), split(n_test), 2, channels, length, **details)
