"""The HTML build: ``jupyter-book build book`` with execution off, and placeholders for pages not executed yet.

The HTML build of a partial book (``make notebook`` in a fresh clone) writes a short "not built yet" page for
every page of ``_toc.yml`` under ``generated/`` that was not executed, and says which; every other warning still
fails the build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from tsinsight.runner import plan

PLACEHOLDER_MARK = "<!-- tsinsight.book: placeholder for a page that was not executed -->"


def _is_placeholder(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8").startswith(PLACEHOLDER_MARK)
    except OSError:
        return False


def remove_placeholder(page: Path) -> None:
    """Remove the placeholder of ``page`` (an executed ``.ipynb``): two sources for one page would be a warning."""
    placeholder = page.with_suffix(".md")
    if _is_placeholder(placeholder):
        placeholder.unlink()


def _notebook_title(notebook: str) -> str:
    source = plan.NOTEBOOKS / f"{notebook}.ipynb"
    if source.exists():
        for cell in nbformat.read(source, as_version=4).cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
    return notebook


def write_placeholders() -> list[str]:
    """Write a "not built yet" page for each page of the table of contents that was not executed; return them.

    Placeholders of pages that have been executed since are removed first. Each placeholder is written
    atomically, like every page.
    """
    missing = []
    for page in plan.toc_generated_pages():
        stem = plan.BOOK / page
        placeholder, executed = stem.with_suffix(".md"), stem.with_suffix(".ipynb")
        if executed.exists():
            remove_placeholder(executed)
            continue
        if placeholder.exists() and not _is_placeholder(placeholder):
            continue  # a real page written as Markdown: not ours to replace
        notebook = stem.relative_to(plan.GENERATED).parts[0]
        text = (
            f"{PLACEHOLDER_MARK}\n# {_notebook_title(notebook)}\n\n"
            f"```{{note}}\nThis page has not been built yet. Execute it with `make notebook NB={notebook}`, "
            "or build the whole book with `make book`.\n```\n"
        )
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        partial = placeholder.with_name(f".{placeholder.name}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, placeholder)
        missing.append(page)
    return missing


def build_html() -> Path:
    """``jupyter-book build book`` with execution off and warnings as errors; returns the index page."""
    command = ["jupyter-book", "build", str(plan.BOOK), "--warningiserror", "--keep-going"]
    executable = Path(sys.executable).parent / "jupyter-book"
    if executable.exists():
        command[0] = str(executable)
    missing = write_placeholders()
    if missing:
        print(
            f"{len(missing)} page(s) not executed yet, shown as 'not built yet': {', '.join(missing)} "
            "(make book executes them all)",
            flush=True,
        )
    print("building the book:", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    index = plan.BOOK / "_build" / "html" / "index.html"
    print(f"the book is at {index}", flush=True)
    return index
