"""Compute budgets of the book, in one place: ``smoke`` (CI), ``cpu`` (a laptop) and ``paper`` (Table 2).

Every notebook receives a profile name as a papermill parameter and reads its budgets from here, so a
budget is never repeated in a notebook.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch

from tsinsight.training import TrainConfig


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    max_epochs: int  # cap on epochs of the classifier and auto-encoder fits
    # Cap on epochs of every explainer fine-tuning: its own, set so that fits end by early stopping (Table 2's patience
    # of 10 epochs on the validation loss) and not by the cap. Under ``paper`` it is Table 2's 50.
    explainer_epochs: int
    batch_size: int  # the paper's 256; smaller on capped subsets, where 256 leaves too few steps to converge
    lr: float  # the paper's 1e-4; larger where the epoch budget is cut, so that the models still converge
    runs: int  # independent seeds per experiment
    max_train: int | None  # cap on the training split (None: all of it)
    max_val: int | None
    max_test: int | None
    n_eval: int  # test samples used by attribution, suppression, FGSM, Jacobian and sanity checks
    landscape_grid: int  # points per axis of the loss landscape (the paper: 41, i.e. step 0.05)
    landscape_samples: int  # test samples the loss landscape is evaluated on
    instance_epochs: int  # cap on the steps of an instance-level fine-tuning (Section 6.2), which stops on its own loss
    # The data sets of the pages executed once per data set (training, attributions, suppression); None: every one
    # available. The pages of one figure keep theirs (the FGSM page its three, the Jacobian page Forest Cover).
    datasets: tuple[str, ...] | None = None
    # The page of planted evidence (``tsinsight.experiments.planted``) fits every planted set's classifiers,
    # auto-encoders, explainers and tuning ladders on top of the book's: its caps on their training and validation
    # series and on the series it scores, and the series the two masks (the costliest methods) explain, so that the
    # page stays within the book's budget (None: the profile's own caps, every scored series), and how many runs'
    # tuning ladders it scores (None: every run's; run 0's is the tuning sweep itself, the others are fitted here).
    planted_max_train: int | None = None
    planted_max_val: int | None = None
    planted_n_eval: int | None = None
    planted_mask_series: int | None = None
    planted_ladder_runs: int | None = None
    # The validation series the tuning judges accuracy on (tsinsight.zoo.judging_split): the profile's cap on validation
    # bounds the cost of early stopping and is lifted for the judgement, up to this many series, since a judgement is
    # a few forward passes and a larger sample tightens its confidence bound.
    max_judged: int = 10_000

    def as_dict(self) -> dict:
        return asdict(self)

    def run_seeds(self, runs: int | None = None) -> range:
        """Run seeds ``0..runs-1`` (``None``: this profile's number of runs), checked."""
        count = self.runs if runs is None else runs
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"runs must be a positive integer or None (the profile's), got {runs!r}")
        return range(count)

    def train_config(self, seed: int = 0, **overrides) -> TrainConfig:
        """Table 2 with this profile's epoch cap, batch size and learning rate, and ``seed``."""
        unknown = set(overrides) - {f.name for f in fields(TrainConfig)}
        if unknown:
            raise TypeError(
                f"unknown TrainConfig fields {sorted(unknown)}; known: {[f.name for f in fields(TrainConfig)]}"
            )
        settings = dict(max_epochs=self.max_epochs, batch_size=self.batch_size, lr=self.lr, seed=seed)
        return TrainConfig(**(settings | overrides))


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="tiny subsets and one epoch: checks that every notebook runs (CI), the per-data-set ones on three data sets; its numbers are not results",
        max_epochs=1,
        explainer_epochs=2,
        batch_size=32,
        lr=1e-3,
        runs=1,
        max_train=256,
        max_val=128,
        max_test=256,
        n_eval=24,
        landscape_grid=5,
        landscape_samples=64,
        instance_epochs=3,
        # three kinds of data — generated with ground truth, multivariate, univariate with 42 classes — for
        # the pages run per data set; the figures' own pages add Forest Cover and UWave. Every page of the book
        # runs, at about a minute and a half less for make test than with all seven data sets.
        datasets=("synthetic_anomaly", "character_trajectories", "ecg_thorax"),
        # the sweeps' judgement on the capped validation split: on the lifted one (up to 5000 series) the smoke book's
        # five sweeps took 52 s instead of 32 s (2 cores)
        max_judged=128,
        # the planted page's two planted sets on half the caps: 34 s -> 26 s of the smoke book (2 cores)
        planted_max_train=128,
        planted_max_val=64,
        planted_n_eval=16,
    ),
    "cpu": Profile(
        name="cpu",
        description="every data set capped at 3000 training series, 10 epochs at learning rate 1e-3 and batches of 32 (explainers: until early stopping, at most 200 epochs), 2 runs: the whole book on 2 CPU cores",
        max_epochs=10,
        explainer_epochs=200,
        batch_size=32,
        lr=1e-3,
        runs=2,
        max_train=3000,
        max_val=1000,
        max_test=2000,
        n_eval=150,
        landscape_grid=41,
        landscape_samples=256,
        instance_epochs=500,
        # not yet measured against the page's 15-minute share of the book (issue 34): a first bound
        planted_max_train=500,
        planted_max_val=250,
        planted_n_eval=100,
        planted_mask_series=25,
        # run 1's ladder took a fifth to a third of a planted set's time (stop 41, 2 cores): run 0's (the sweep) only
        planted_ladder_runs=1,
    ),
    "paper": Profile(
        name="paper",
        description="the paper's Table 2 budget (50 epochs, early stopping) on the full splits, 5 runs",
        max_epochs=50,
        explainer_epochs=50,
        batch_size=256,
        lr=1e-4,
        runs=5,
        max_train=None,
        max_val=None,
        max_test=None,
        n_eval=1000,
        landscape_grid=41,
        landscape_samples=2000,
        instance_epochs=500,
    ),
}


def default_profile_name() -> str:
    """``paper`` where CUDA is available, ``cpu`` otherwise."""
    return "paper" if torch.cuda.is_available() else "cpu"


def get_profile(name: str | Profile | None = None) -> Profile:
    """The profile called ``name`` (``None``: :func:`default_profile_name`)."""
    if isinstance(name, Profile):
        return name
    name = name or default_profile_name()
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: choose one of {sorted(PROFILES)}") from None
