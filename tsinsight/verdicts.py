"""A claim of the paper beside our measurement, and its verdict: reproduced, not reproduced or not comparable.

:mod:`tsinsight.claims` judges the claims; this module is the record it fills in and how a page shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import pandas as pd

from tsinsight.report import verdict_text

VERDICTS = {True: "reproduced", False: "not reproduced", None: "not comparable"}


@dataclass
class Claim:
    """One claim of the paper beside our measurement."""

    figure: str
    dataset: str
    claim: str
    paper: str
    ours: str
    holds: bool | None  # None: not comparable
    why: str = ""  # why it is not comparable, or the rule behind the verdict
    difference: float | None = None

    @property
    def verdict(self) -> str:
        return VERDICTS[self.holds]

    def text(self) -> str:
        """The claim as one Markdown sentence (paper, ours, verdict)."""
        evidence = f"{self.ours}." + (f" {self.why}" if self.why else "")
        return verdict_text(self.claim, self.holds, evidence)


def show(claims: list[Claim]) -> None:
    """Display claims in a notebook, one paragraph each."""
    from IPython.display import Markdown, display  # a notebook's display, imported where it is used

    for claim in claims:
        display(Markdown(claim.text()))


def frame(claims: list[Claim]) -> pd.DataFrame:
    """Claims as a table (one row each, with the verdict spelled out)."""
    columns = [*(f.name for f in fields(Claim)), "verdict"]  # also when there is no claim yet
    return pd.DataFrame([{**asdict(c), "verdict": c.verdict} for c in claims], columns=columns)
