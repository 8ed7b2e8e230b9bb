"""What every page of the book shows about itself: provenance at the top, verdicts beside the paper's claims."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

import torch
from IPython.display import Markdown, display

from tsinsight import data
from tsinsight.profiles import get_profile

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


def _dataset_line(name: str) -> str:

    try:
        info = data.load(name, download=False).describe()
    except data.DataNotFoundError:
        return f"`{name}`: **not available on this machine** (see the Data chapter for how to get it)"
    flag = f" — **substitute**: {info['note']}" if info.get("substitute") else ""
    return f"`{name}` from {info['source']}{flag}"


def header_markdown(profile: str, datasets=(), runs: int | None = None) -> str:
    """The provenance box of a page as MyST Markdown."""
    chosen = get_profile(profile)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({platform.machine()})"
    lines = [
        f"- **Profile:** `{chosen.name}` — {chosen.description}",
        f"- **Runs:** {runs if runs is not None else chosen.runs} (independent seeds)",
    ]
    lines += [f"- **Data:** {_dataset_line(name)}" for name in datasets]
    lines.append(f"- **Executed:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {device}")
    lines.append("- **Versions:** " + ", ".join(f"{k} {v}" for k, v in package_versions().items()))
    return ":::{admonition} How this page was produced\n:class: note\n" + "\n".join(lines) + "\n:::\n"


def page_header(profile: str, datasets=(), runs: int | None = None) -> None:
    """Display the provenance box at the top of a notebook page."""
    display(Markdown(header_markdown(profile, datasets, runs)))


def verdict_text(claim: str, holds: bool | None, evidence: str) -> str:
    """One sentence that sets a claim of the paper beside what we measured.

    ``holds`` is ``True`` (reproduced), ``False`` (not reproduced) or ``None`` (not comparable).
    """
    label = {True: "✅ reproduced", False: "❌ not reproduced", None: "⚠️ not comparable"}[holds]
    return f"**Paper:** {claim} **Ours:** {evidence} **Verdict:** {label}."
