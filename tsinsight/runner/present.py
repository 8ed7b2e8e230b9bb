"""How an executed page is shown to a reader: what it found first, its provenance folded, its code one click away.

Applied to every page the book shows, once when the runner executes it (:func:`tsinsight.runner.execute.finish`) and
again when the reference edition is rendered (:func:`tsinsight.runner.edition.render`), so that the edition's pages,
executed by an earlier version of the notebooks, read like fresh ones. Applying it twice changes nothing.

- **Findings first**: under the title and the paragraph below it (the question the page answers), a "What this
  page found" box with the claims
  of the paper the page judges, their verdicts and our numbers (the rows of :func:`tsinsight.claims.judged`, the
  same code as the reproduction report); a page that judges every claim (its ``findings`` declaration is ``"all"``)
  gets the counts per verdict and figure; a page that judges none, its main numbers (:mod:`tsinsight.runner.numbers`).
  The rest of the page's introduction (how it answers the question) follows the findings and the provenance.
- **Provenance once, folded**: one visible line (profile, edition or this machine, commit, date) opening a dropdown
  with the rest: the provenance box that the notebook's ``page_header`` displayed (taken out of the cell's outputs
  and kept in the page's metadata), the edition's banner, the runtime, the source and the ``make notebook`` line.
- **Code one click away**: every code cell's input is folded (``hide-input``), and plumbing with nothing to show
  (imports, ``page_header``, saving a table; the injected parameters, which the re-run line names) is removed from
  the page (``remove-cell``), except on the pages whose
  subject is code (:data:`CODE_PAGES`). The value a cell returns by ending in a ``save(...)`` call (the path of the
  file written: a path of the machine that built the page) is dropped.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pandas as pd

from tsinsight import claims
from tsinsight.paper import label
from tsinsight.report import VERDICT_MARKS
from tsinsight.results import results_dir
from tsinsight.runner import numbers, plan
from tsinsight.runner.plan import Run

PROVENANCE_MARK = "<!-- tsinsight-provenance -->"
FINDINGS_MARK = "<!-- tsinsight-findings -->"
INTRO_MARK = "<!-- tsinsight-intro -->"  # the rest of a page's introduction, moved below its findings
# Pages whose subject is code: a reader comes to them to read it.
CODE_PAGES = frozenset({"quickstart", "rerunning", "your_model"})
# Tags with which myst-nb folds or removes a cell's input (either spelling).
FOLDED = frozenset({"hide-input", "hide_input", "hide-cell", "hide_cell", "remove-input", "remove_input",
                    "remove-cell", "remove_cell"})  # fmt: skip
# Calls that only set a page up or store its tables: a cell made of these and imports shows nothing a reader needs.
PLUMBING_CALLS = frozenset({"page_header", "save", "use_book_style", "get_profile"})
_HEADER_TITLE = ":::{admonition} How this page was produced"
_EXECUTED = re.compile(r"\*\*Executed:\*\* (?P<date>\d{4}-\d\d-\d\d) [\d:]+ UTC on .*, commit (?P<commit>`\w+`)")
# An absolute path of a machine: POSIX (two components at least, not part of a URL or a relative path) or Windows,
# or a pathlib object's repr.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])/(?:[\w.-]+/)+[\w.-]+|\b[A-Za-z]:\\[\w.\\-]+|\b(?:Posix|Windows)Path\(")


def machine_paths(text: str) -> list[str]:
    """The absolute paths in ``text`` (what no page may show)."""
    return [match.group(0) for match in ABSOLUTE_PATH.finditer(text)]


# ---- code ----


def _called(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        function = node.func
        return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    return None


def _statements(source: str) -> list[ast.stmt] | None:
    try:
        return ast.parse(source).body
    except SyntaxError:  # IPython magics: not plain Python
        return None


def _is_plumbing(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return True
    if isinstance(statement, ast.Expr | ast.Assign):  # set-up: every call in it is plumbing (or it calls nothing)
        return all(_called(node) in PLUMBING_CALLS for node in ast.walk(statement) if isinstance(node, ast.Call))
    return False


def visible_outputs(cell) -> list:
    """The outputs of a code cell that the page shows (the book removes stderr: ``nb_output_stderr``)."""
    tags = set(cell.metadata.get("tags", []))
    if tags & {"remove-output", "remove_output", "remove-cell", "remove_cell"}:
        return []
    return [output for output in cell.get("outputs", []) if output.get("name") != "stderr"]


def tag(cell, tag: str) -> None:
    """Add ``tag`` to ``cell``'s tags (once)."""
    tags = cell.metadata.get("tags", [])
    if tag not in tags:
        cell.metadata["tags"] = [*tags, tag]


def drop_volatile(page: nbformat.NotebookNode) -> None:
    """Remove what changes at every execution without changing the page: papermill's paths (of the machine that
    executed it) and times, and the kernel's execution timestamps."""
    page.metadata.pop("papermill", None)
    for cell in page.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


def fold_code(page: nbformat.NotebookNode, notebook: str) -> None:
    """Fold every code cell's input of ``page`` (a page of ``notebook``) and remove its plumbing (see the module)."""
    for cell in page.cells:
        if cell.cell_type != "code":
            continue
        statements = _statements(cell.source)
        if statements and _called(getattr(statements[-1], "value", None)) == "save":
            cell.outputs = [output for output in cell.outputs if output.get("output_type") != "execute_result"]
        tags = set(cell.metadata.get("tags", []))
        removed = "injected-parameters" in tags  # on every page: the re-run line in the provenance names them
        if not removed and (notebook in CODE_PAGES or tags & (FOLDED - {"hide-input", "hide_input"})):
            continue
        plumbing = statements is not None and all(_is_plumbing(statement) for statement in statements)
        if removed or (plumbing and not visible_outputs(cell)):
            cell.metadata["tags"] = [name for name in cell.metadata.get("tags", []) if name not in FOLDED]
            tag(cell, "remove-cell")
        elif not tags & FOLDED:
            tag(cell, "hide-input")


def unfolded_cells(page: nbformat.NotebookNode, notebook: str) -> list[int]:
    """The code cells of ``page`` whose input the page shows, outside :data:`CODE_PAGES` (what must not be)."""
    if notebook in CODE_PAGES:
        return []
    return [
        index
        for index, cell in enumerate(page.cells)
        if cell.cell_type == "code" and not FOLDED & set(cell.metadata.get("tags", []))
    ]


# What a page does not show as text: HTML tags and comments, and the targets of MyST links (`name </path>`).
_MARKUP = re.compile(r"<[^<>\n]*>")
# What an HTML output holds but does not show: scripts and styles (the Explore page's inline Bokeh library is full of
# regular expressions such as /_/g that read like paths).
_UNSHOWN = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)


def shown_text(page: nbformat.NotebookNode) -> str:
    """Everything of ``page`` that its HTML page shows as text: Markdown cells, code cells' visible outputs (every
    text representation of each) and the inputs the page shows or folds (not those it removes)."""
    parts = []
    for cell in page.cells:
        if cell.cell_type == "markdown":
            parts.append(_MARKUP.sub("", cell.source))
            continue
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & {"remove-cell", "remove_cell"}:
            continue
        if not tags & {"remove-input", "remove_input"}:
            parts.append(cell.source)
        for output in visible_outputs(cell):
            parts.append(output.get("text", ""))
            parts += [_MARKUP.sub("", _UNSHOWN.sub("", "".join(text))) for mime, text in output.get("data", {}).items()
                      if mime.startswith("text/")]  # fmt: skip
    return "\n".join("".join(part) if isinstance(part, list) else str(part) for part in parts)


# ---- provenance ----


def take_header(page: nbformat.NotebookNode) -> list[str]:
    """The lines of the provenance box that ``page_header`` displayed, taken out of the cell's outputs and kept in
    the page's metadata (``tsinsight.provenance``), where a second call finds them."""
    kept = page.metadata.setdefault("tsinsight", {})
    for cell in page.cells:
        if cell.cell_type != "code" or "page_header(" not in cell.source:
            continue
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown", "")
            if text.startswith(_HEADER_TITLE):
                kept["provenance"] = [line for line in text.splitlines() if line.startswith("- ")]
                cell.outputs = [other for other in cell.outputs if other is not output]
                break
    return list(kept.get("provenance", []))


def executed(header: list[str]) -> dict[str, str]:
    """The date and commit of the page's execution, from its provenance lines ({} without them)."""
    for line in header:
        found = _EXECUTED.search(line)
        if found:
            return found.groupdict()
    return {}


def provenance_markdown(summary: str, lines: list[str]) -> str:
    """The folded provenance: ``summary`` visible, ``lines`` (Markdown) in a dropdown under it."""
    body = "\n".join(lines)
    return f"{PROVENANCE_MARK}\n::::{{dropdown}} {summary}\n:class-container: tsinsight-provenance\n\n{body}\n::::\n"


# ---- findings ----


def findings_markdown(table: pd.DataFrame, everything: bool = False) -> str | None:
    """The "What this page found" box of a page judging ``claims`` (``table``, rows of :func:`tsinsight.claims.judged`
    or of an edition's verdict table): one line per claim (verdict, claim, our number), or with ``everything`` the counts
    per verdict and figure; None without claims."""
    if table is None or not len(table):
        return None
    marks = {VERDICT_MARKS[holds].split(" ", 1)[1]: VERDICT_MARKS[holds] for holds in (True, False, None)}
    if everything:
        counts = table["verdict"].value_counts()
        lines = [
            f"**{len(table)} claims of the paper:** "
            + ", ".join(f"{counts.get(verdict, 0)} {verdict}" for verdict in marks)
            + ".",
            "",
        ]
        for figure, group in table.groupby("figure", sort=False):
            found = group["verdict"].value_counts()
            lines.append(f"- {figure}: " + ", ".join(f"{count} {verdict}" for verdict, count in found.items()))
    else:
        lines = []
        for claim in table.itertuples():
            where = "" if claim.dataset in ("all", "–") else f"{label(claim.dataset)}: "
            lines.append(f"- **{marks.get(claim.verdict, claim.verdict)}** — {where}{claim.claim} Ours: {claim.ours}.")
    return box(lines)


def box(lines: list[str]) -> str:
    """The "What this page found" box around the Markdown ``lines``."""
    return f"{FINDINGS_MARK}\n:::{{admonition}} What this page found\n:class: tip\n" + "\n".join(lines) + "\n:::\n"


def page_findings(
    run: Run, profile: str, verdicts: pd.DataFrame | None = None, tables: Path | None = None
) -> str | None:
    """The "What this page found" box of ``run``: the claims of the figures its notebook declares (``findings``, else
    the figures of its ``claims``), of its data set for a page per data set, judged now from the result tables of
    ``profile`` or taken from ``verdicts`` (an edition's verdict table). A page that judges no claim gets its main
    numbers (:mod:`tsinsight.runner.numbers`) from its result tables: ``profile``'s on this machine, or those in
    ``tables`` (an edition's); None when it has none."""
    declared = plan.declaration(run.notebook)
    wanted = declared.get("findings", list(declared.get("claims", {})))
    if isinstance(wanted, dict):
        return None
    if not wanted:
        lines = numbers.main_numbers(run, numbers.folder_tables(results_dir(profile) if tables is None else tables))
        return box([f"- {line}" for line in lines]) if lines else None
    everything = wanted == "all"
    if verdicts is None:
        table = claims.judged(None if everything else wanted, profile)
    else:
        table = verdicts if everything else verdicts[verdicts["figure"].isin(wanted)]
    dataset = run.parameters.get("dataset") if run.per_dataset else None
    if dataset is not None:
        table = table[table["dataset"].isin([dataset, "–"])]  # "–": a figure not run yet
    return findings_markdown(table, everything)


# ---- the page ----


def _ours(cell) -> bool:
    return cell.cell_type == "markdown" and (
        PROVENANCE_MARK in cell.source or FINDINGS_MARK in cell.source or INTRO_MARK in cell.source
    )


def _section(cells: list, heading: str) -> tuple[int, int] | None:
    """Where the section ``## <heading>`` of ``cells`` begins and ends (the next heading of its level or above)."""
    start = next((i for i, cell in enumerate(cells) if cell.cell_type == "markdown"
                  and cell.source.startswith(f"## {heading}")), None)  # fmt: skip
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(cells)) if cells[i].cell_type == "markdown"
                and re.match(r"#{1,2} ", cells[i].source)), len(cells))  # fmt: skip
    return start, end


def present(
    page: nbformat.NotebookNode, notebook: str, summary: str, lines: list[str], findings: str | None = None
) -> None:
    """Show ``page`` (a page of ``notebook``) to a reader: under its title ``findings`` (a box, or None) and the
    provenance ``summary`` with ``lines`` folded under it, in place of any such blocks it had, then the rest of its
    introduction (:func:`split_intro`); its code folded.

    A notebook that declares ``"findings": {"section": heading}`` has that section moved under its title instead of a
    box: the page's own summary, computed where the page computes it."""
    moved_before = next((cell.source for cell in page.cells if INTRO_MARK in cell.source), None)
    page.cells = [cell for cell in page.cells if not _ours(cell)]
    more = split_intro(page) or moved_before
    declared = plan.declaration(notebook).get("findings")
    where = _section(page.cells, declared["section"]) if isinstance(declared, dict) else None
    after = 1
    if where is not None:
        moved = page.cells[where[0] : where[1]]
        del page.cells[where[0] : where[1]]
        page.cells[1:1] = moved
        after += len(moved)
    blocks = [block for block in (findings, provenance_markdown(summary, lines), more) if block]
    # fixed cell ids: a page whose content is unchanged keeps its bytes
    page.cells[after:after] = [
        nbformat.v4.new_markdown_cell(block, id=block[5 : block.index(" -->")]) for block in blocks
    ]
    fold_code(page, notebook)


def split_intro(page: nbformat.NotebookNode) -> str | None:
    """Keep in ``page``'s first cell its title and the paragraph under it (the question the page answers); return the
    rest of that cell (how the page answers it), marked, to follow the findings; None when there is no rest."""
    first = page.cells[0] if page.cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
        return None
    paragraphs = re.split(r"\n\s*\n", first.source.strip())
    if len(paragraphs) <= 2:
        return None
    first.source = "\n\n".join(paragraphs[:2])
    return f"{INTRO_MARK}\n" + "\n\n".join(paragraphs[2:]) + "\n"
