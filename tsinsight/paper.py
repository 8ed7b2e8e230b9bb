"""The paper's own numbers, stated once: Table 1 (data sets), Table 2 (training) and Table 3 (accuracy).

Every page that compares against the paper reads the paper's values from here.
"""

from __future__ import annotations

# fmt: off
# Table 1: split sizes and shapes per data set (keys are ``tsinsight.data.available()`` names).
TABLE1: dict[str, dict] = {
    "synthetic_anomaly": dict(label="Synthetic anomaly detection", train=45000, val=5000, test=10000, length=50, channels=3, classes=2),
    "electric_devices": dict(label="Electric Devices", train=6244, val=2682, test=7711, length=96, channels=1, classes=7),
    "character_trajectories": dict(label="Character Trajectories", train=1383, val=606, test=869, length=206, channels=3, classes=20),
    "ford_a": dict(label="FordA", train=2520, val=1081, test=1320, length=500, channels=1, classes=2),
    "forest_cover": dict(label="Forest Cover", train=107110, val=45906, test=65580, length=50, channels=10, classes=2),
    "wesad": dict(label="WESAD", train=5929, val=846, test=1697, length=700, channels=8, classes=3),
    "ecg_thorax": dict(label="ECG Thorax", train=1244, val=556, test=1965, length=750, channels=1, classes=42),
    "uwave_gesture": dict(label="UWave Gesture", train=624, val=272, test=3582, length=315, channels=3, classes=8),
}

# Table 2: training hyperparameters (the defaults of ``tsinsight.training.TrainConfig``).
TABLE2 = dict(lr=1e-4, lr_factor=0.9, lr_patience=4, beta=1e-4, gamma=4.0, max_epochs=50, batch_size=256, early_stopping_patience=10)

# Table 3: γ, β and test accuracy (%) of the classifier and of TSInsight + classifier.
TABLE3: dict[str, dict] = {
    "synthetic_anomaly": dict(gamma=1.0, beta=1e-3, classifier=98.01, tsinsight=98.13),
    "wesad": dict(gamma=2.0, beta=1e-5, classifier=99.94, tsinsight=99.76),
    "character_trajectories": dict(gamma=0.25, beta=1e-4, classifier=97.01, tsinsight=97.24),
    "ford_a": dict(gamma=2.0, beta=1e-4, classifier=91.74, tsinsight=93.26),
    "forest_cover": dict(gamma=4.0, beta=1e-4, classifier=95.79, tsinsight=96.26),
    "electric_devices": dict(gamma=4.0, beta=1e-4, classifier=65.14, tsinsight=65.74),
    "ecg_thorax": dict(gamma=0.1, beta=1e-4, classifier=86.01, tsinsight=84.07),
    "uwave_gesture": dict(gamma=4.0, beta=5e-4, classifier=91.76, tsinsight=92.29),
}

# fmt: on


def hyperparameters(dataset: str) -> tuple[float, float]:
    """The paper's (γ, β) for ``dataset`` (Table 3)."""
    try:
        row = TABLE3[dataset]
    except KeyError:
        raise ValueError(f"the paper gives no γ, β for {dataset!r}; known: {sorted(TABLE3)}") from None
    return row["gamma"], row["beta"]


def starting_weights(dataset: str) -> tuple[float, float]:
    """Where the tuning of ``dataset``'s γ, β starts: Table 3's row, or Table 2's defaults for a data set the
    paper does not have."""
    return hyperparameters(dataset) if dataset in TABLE3 else (TABLE2["gamma"], TABLE2["beta"])


def label(dataset: str) -> str:
    """The paper's name for ``dataset`` (Table 1), or the name itself for a data set the paper does not have."""
    return TABLE1.get(dataset, {}).get("label", dataset)
