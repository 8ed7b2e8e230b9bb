"""What every page of the book shows about itself: provenance at the top, numbers for the reader, verdicts.

The provenance box names the profile, the data (its source archive, never a path of the machine that built the
page), the git commit and device that produced the page and the package versions. :func:`format_runs` and
:func:`reader_table` are the display conventions of every table a reader sees: a mean over runs with the runs (fewer
than 3) or its 95 % t-interval, and no unnamed default index.
"""

from __future__ import annotations

import math
import platform
import re
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from tsinsight import attribution, data
from tsinsight.paper import label
from tsinsight.profiles import get_profile

ROOT = Path(__file__).resolve().parents[1]

_PACKAGES = ("tsinsight", "torch", "captum", "numpy", "pandas", "scikit-learn", "tslearn")


def package_versions() -> dict[str, str]:
    """Versions of the packages that produce the book's numbers."""
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


# A loader's source ends with the folder it read, e.g. "UCR archive FordA (/home/me/mirror/ucr)": a path of the
# machine that built the page, which tells a reader nothing and leaks the builder's layout.
_TRAILING_PATH = re.compile(r"\s*\((?:/|~|[A-Za-z]:[\\/])[^()]*\)$")


def public_source(source: str) -> str:
    """A data set's source without the local folder it was read from."""
    return _TRAILING_PATH.sub("", source)


def _dataset_line(name: str) -> str:
    try:
        info = data.load(name, download=False).describe()
    except data.DataNotFoundError:
        return f"`{name}`: **not available on this machine** (see the Data chapter for how to get it)"
    flag = f" — **substitute**: {info['note']}" if info.get("substitute") else " — the paper's data"
    return f"`{name}` from {public_source(info['source'])}{flag}"


def git_commit(root: Path = ROOT) -> str:
    """The commit of the checkout at ``root`` (short hash), with "modified" when its tree has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "--short=12", "HEAD").strip()
        dirty = git("status", "--porcelain").strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"`{commit}`" + (" (modified: uncommitted changes)" if dirty else "")


def device_name() -> str:
    """The GPU the page ran on, else the CPU model."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"CPU {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return f"CPU {platform.processor() or platform.machine()}"


def header_markdown(profile: str, datasets=(), runs: int | None = None) -> str:
    """The provenance box of a page as MyST Markdown."""
    chosen = get_profile(profile)
    lines = [
        f"- **Profile:** `{chosen.name}` — {chosen.description}",
        f"- **Runs:** {runs if runs is not None else chosen.runs} (independent seeds)",
    ]
    lines += [f"- **Data:** {_dataset_line(name)}" for name in datasets]
    lines.append(f"- **Executed:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {device_name()}, commit {git_commit()}")
    lines.append("- **Versions:** " + ", ".join(f"{k} {v}" for k, v in package_versions().items()))
    return ":::{admonition} How this page was produced\n:class: note\n" + "\n".join(lines) + "\n:::\n"


def page_header(profile: str, datasets=(), runs: int | None = None) -> None:
    """Display the provenance box at the top of a notebook page."""
    display(Markdown(header_markdown(profile, datasets, runs)))


def verdict_text(claim: str, holds: bool | None, evidence: str) -> str:
    """One sentence that sets a claim of the paper beside what we measured.

    ``holds`` is ``True`` (reproduced), ``False`` (not reproduced) or ``None`` (not comparable).
    """
    return f"**Paper:** {claim} **Ours:** {evidence} **Verdict:** {VERDICT_MARKS[holds]}."


# Plain marks (no emoji): a reader without an emoji font saw empty boxes where the verdicts were.
VERDICT_MARKS = {True: "[+] reproduced", False: "[−] not reproduced", None: "[?] not comparable"}


def claims_markdown(table: pd.DataFrame, data_notes: dict[str, str] | None = None) -> str:
    """A verdict table (``tsinsight.claims.all_claims``) as Markdown that reads on a narrow page: one section per
    figure, one short paragraph per claim with the data set's name, the paper's value and ours, the verdict and the
    rule or reason, and ``data_notes[dataset]`` (where the data came from) when given."""
    marks = {verdict: VERDICT_MARKS[holds] for holds, verdict in
             ((True, "reproduced"), (False, "not reproduced"), (None, "not comparable"))}  # fmt: skip
    sections = []
    for figure, claims in table.groupby("figure", sort=False):
        lines = [f"### {figure}", ""]
        for claim in claims.itertuples():
            where = "all data sets" if claim.dataset == "all" else label(claim.dataset)
            difference = "" if pd.isna(claim.difference) else f" (difference {claim.difference:+.2f})"
            note = (data_notes or {}).get(claim.dataset, "")
            why = claim.why if isinstance(claim.why, str) else ""
            lines += [
                f"- **{where}** — {claim.claim}",
                f"  Paper: {claim.paper}. Ours: {claim.ours}{difference}.",
                f"  **{marks.get(claim.verdict, claim.verdict)}**"
                + (f" — {why}" if why else "")
                + (f" *Data: {note}.*" if note else ""),
                "",
            ]
        sections.append("\n".join(lines))
    return "\n".join(sections)


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, int]:
    """Mean of ``values`` (NaNs dropped), the half-width of its Student-t ``confidence`` interval, and the count.

    The half-width is NaN for fewer than two values (one run has no interval).
    """
    from scipy import stats  # on first use (tsinsight.imports)

    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, 0
    if n == 1:
        return float(values[0]), math.nan, 1
    half = stats.t.ppf((1 + confidence) / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(values.mean()), float(half), n


def format_runs(values, digits: int = 1, unit: str = "") -> str:
    """A quantity measured over runs as every table of the book shows it (NaNs dropped, "–" without a value).

    Fewer than 3 runs: the mean and the runs themselves, ``"84.6 (82.8, 86.3)"`` (a t-interval over two runs says
    nothing a reader can use: t = 12.7); from 3 runs on: the mean ± its 95 % t-interval and the number of runs,
    ``"84.6 ± 1.3 (n = 5)"``. ``unit`` follows the mean (and the interval), e.g. ``" %"``.
    """
    mean, half, n = mean_ci(values)
    if n == 0:
        return "–"
    if n < 3:
        runs = np.sort(np.asarray(values, dtype=float))
        shown = ", ".join(f"{value:.{digits}f}" for value in runs[~np.isnan(runs)])
        return f"{mean:.{digits}f}{unit} ({shown if n == 2 else 'one run'})"
    return f"{mean:.{digits}f} ± {half:.{digits}f}{unit} (n = {n})"


def reader_table(frame: pd.DataFrame, precision: int = 2):
    """``frame`` styled for a page: numbers at ``precision`` digits, "–" for missing, no unnamed default index.

    A named or labelled index (methods, data sets) stays: it is the table's first column.
    """
    styled = frame.style.format(precision=precision, na_rep="–")
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        styled = styled.hide(axis="index")
    return styled


def table3_reader_table(accuracies: pd.DataFrame, compared: pd.DataFrame) -> pd.DataFrame:
    """Table 3 as a page shows it: per data set (rows of ``compared``, ``experiments.compare_table3``) its γ, β, the
    paper's accuracy, ours (:func:`format_runs` over the runs of ``accuracies``) and ours minus the paper's, in percent."""
    ours = {
        (name, model): format_runs(100 * rows["accuracy"], digits=2)
        for (name, model), rows in accuracies.groupby(["dataset", "model"])
    }
    shown = compared.set_index("dataset")[
        ["label", "gamma", "beta", "classifier_paper", "classifier_diff", "tsinsight_paper", "tsinsight_diff",
         "substitute"]
    ]  # fmt: skip
    for weight in ("gamma", "beta"):  # β is of the order of 1e-4: a fixed number of digits would show 0.00
        shown[weight] = [f"{value:g}" if pd.notna(value) else None for value in shown[weight]]
    for model in ("classifier", "tsinsight"):
        place = shown.columns.get_loc(f"{model}_paper") + 1
        shown.insert(place, f"{model}_ours", [ours.get((name, model)) for name in shown.index])
    shown.columns = [
        "data set", "γ", "β", "classifier: paper", "classifier: ours", "classifier: diff",
        "TSInsight: paper", "TSInsight: ours", "TSInsight: diff", "substitute data",
    ]  # fmt: skip
    return shown.reset_index(drop=True)


def committed_run_text(provenance: pd.DataFrame, machine: pd.Series) -> str:
    """Where a committed paper-budget Table 3 (``runner.edition.committed_table3``) came from, as one Markdown
    sentence: its commits (one per sitting), the machine, and each data set's wall time, saying which data sets
    resumed from models cached by an earlier sitting (their wall time is then less than their fits cost)."""
    commits = [f"`{commit[:12]}`" for commit in dict.fromkeys(provenance["commit"].astype(str))]
    on = machine["gpu"] or f"{machine['cpu']} CPU, {machine['cores']} cores, {machine['torch_threads']} PyTorch threads"

    def took(name, row):
        text = f"{label(name)} {float(row.seconds) / 60:.1f} min"
        needed = 3 * int(row.runs)  # tools/paper_table3.py fits a classifier, an auto-encoder and an explainer per run
        trained = row.get("models_trained")  # absent from data sets run before the tool counted them: from scratch
        if pd.notna(trained) and trained < needed:
            text += f" (resumed: {trained:.0f} of its {needed} models trained in that sitting)"
        return text

    return (
        f"Run by `tools/paper_table3.py` at commit{'s' if len(commits) > 1 else ''} {' and '.join(commits)} on {on} "
        f"(PyTorch {machine['torch']}): {provenance['seconds'].astype(float).sum() / 3600:.1f} h of wall time "
        f"({', '.join(took(name, row) for name, row in provenance.iterrows())})."
    )


def capped_counts(rows: pd.DataFrame) -> str:
    """How many fits of each model (rows of ``experiments.accuracy_table`` or ``paper_table3``, with their ``capped``
    flag) ended at their epoch cap rather than by early stopping: "Classifier 3 of 5, TSInsight 1 of 5"."""
    ended = rows.groupby("model")["capped"].agg(["sum", "size"])
    return ", ".join(f"{method_label(model)} {row['sum']} of {row['size']}" for model, row in ended.iterrows())


# Readable names of the model variants that figures show beside the attribution methods.
VARIANT_LABELS = {
    "classifier": "Classifier", "autoencoder": "Auto-encoder", "sparsity_only": "Sparsity only",
    "saliency": "Saliency-driven γ*/β*", "input": "Input",
}  # fmt: skip


def method_label(name: str) -> str:
    """The readable name of an attribution method (:data:`tsinsight.attribution.TABLE`) or a model variant."""
    return VARIANT_LABELS.get(name) or attribution.label(name)


def setting_ranks(ranking: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The mean ranks of a ranking per filler and order (``robustness_ranking``) as "mean [low–high]" cells, one column
    per ``filler/order`` setting and one row per method label, rows in the first setting's order; and the methods in
    that order."""
    settings = ranking["filler"] + "/" + ranking["order"]
    cells = ranking.assign(
        setting=settings, cell=[f"{r.mean_rank:.1f} [{r.rank_low:.1f}–{r.rank_high:.1f}]" for r in ranking.itertuples()]
    ).pivot(index="method", columns="setting", values="cell")[list(settings.unique())]
    order = list(ranking[settings == settings.iloc[0]].sort_values("mean_rank")["method"])
    shown = cells.loc[order]
    shown.index = [method_label(method) for method in order]
    return shown, order
