"""What the runner writes into an executed page: a title that names its data set, its source and its re-run line.

A notebook executed once per data set keeps one heading in ``notebooks/`` ("Training a classifier and its
TSInsight explainer"), but each of its pages needs a title of its own, since the title is the page's entry in the
sidebar. The notebook stores a short pattern for it in its own metadata::

    "metadata": {"tsinsight": {"title": "{label} — training and Table 3"}}

where ``{label}`` is the paper's name of the data set (:func:`tsinsight.paper.label`) and any other field is one of
the run's parameters. :func:`finish` rewrites the page's first ``# `` heading from it, and adds under the
provenance box where the page's source is and the one ``make notebook`` line that executes it again.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from tsinsight import paper


def page_title(notebook: nbformat.NotebookNode, parameters: dict) -> str | None:
    """The title of a page executed with ``parameters``, from its notebook's title pattern; None without one."""
    pattern = notebook.metadata.get("tsinsight", {}).get("title")
    if pattern is None:
        return None
    fields = dict(parameters)
    if "dataset" in parameters:
        fields["label"] = paper.label(parameters["dataset"])
    try:
        return pattern.format(**fields)
    except KeyError as missing:
        raise ValueError(f"the title pattern {pattern!r} needs the parameter {missing}, not given") from None


def set_title(notebook: nbformat.NotebookNode, title: str) -> None:
    """Replace the first ``# `` heading of the first Markdown cell by ``title``."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for index, line in enumerate(lines):
            if line.startswith("# "):
                lines[index] = f"# {title}"
                cell.source = "\n".join(lines)
                return
        break
    raise ValueError("the notebook has no '# ' title in its first Markdown cell")


def _cli(value) -> str:
    """``value`` as written after ``name=`` on the command line (strings bare, lists without spaces)."""
    return value if isinstance(value, str) else repr(value).replace(" ", "")


def rerun_command(notebook: str, parameters: dict, profile: str) -> str:
    """The ``make notebook`` line that executes ``notebook`` again with ``parameters`` under ``profile``."""
    assignments = " ".join(f"{name}={_cli(value)}" for name, value in parameters.items())
    return f"make notebook NB={notebook}" + (f' P="{assignments}"' if assignments else "") + f" PROFILE={profile}"


def source_markdown(notebook: str, parameters: dict, profile: str) -> str:
    """The "source and re-run" box: a download link to ``notebooks/<notebook>.ipynb`` and the re-run line."""
    # A leading "/" makes the path relative to the book's folder, wherever the page sits under generated/.
    link = f"{{download}}`notebooks/{notebook}.ipynb </../notebooks/{notebook}.ipynb>`"
    return (
        ":::{admonition} Source and re-run\n:class: tip\n"
        f"This page is the notebook {link} executed by papermill. To execute it again with the same parameters "
        "(from the repository's top folder):\n\n"
        f"```bash\n{rerun_command(notebook, parameters, profile)}\n```\n:::\n"
    )


def finish(path: str | Path, notebook: str, parameters: dict, profile: str) -> None:
    """Give the executed page at ``path`` its title (from its pattern) and its source and re-run box.

    The box goes right under the provenance box (the cell that calls ``page_header``), else under the title. It
    states the parameters, so the cell that papermill injected to set them is folded away like plotting code.
    """
    executed = nbformat.read(path, as_version=4)
    title = page_title(executed, parameters)
    if title is not None:
        set_title(executed, title)
    for cell in executed.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            cell.metadata["tags"] = [*tags, "hide-input"]
    header = next((i for i, cell in enumerate(executed.cells) if "page_header(" in cell.source), 0)
    box = nbformat.v4.new_markdown_cell(source_markdown(notebook, parameters, profile))
    executed.cells.insert(header + 1, box)
    nbformat.write(executed, path)
