"""What a reader sees on every page of the built book, read from its HTML: no unfolded code, no machine path, no top bar.

Fails, naming each page and its problem, when

* a page under ``generated/`` shows a code cell's input unfolded (a ``cell_input`` outside the ``<details>`` of a
  ``hide-input`` cell), except on the pages whose subject is code (``tsinsight.runner.present.CODE_PAGES``);
* any page's main column holds an absolute path of a machine (``tsinsight.runner.present.machine_paths``: a POSIX
  path, a Windows one or a ``PosixPath(...)`` repr), dropdowns and folded code included: a reader can open them.
  The code blocks of hand-written pages are left out: their paths are examples for a reader to adapt
  (``/shared/data`` on the cluster page);
* the page's header (the theme's bar across the top, ``header.bd-header``) holds anything: its default is a second
  search field there, above every page's title, where the sidebar has the book's search (``navbar_persistent: []``
  in ``book/_config.yml`` keeps it empty).

Command line (what ``make page-check`` calls, after the smoke build of ``make test``)::

    python tools/page_check.py book/_build/html

The same rules are checked on the committed reference edition's pages, before any build, by tests/test_present.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bs4 import BeautifulSoup

from tsinsight.runner.present import CODE_PAGES, machine_paths

ASSET_DIRS = frozenset({"_static", "_sources", "_images", "_downloads", "_modules"})


def page_problems(html: str, page: Path) -> list[str]:
    """The problems of one built page (``page``: its path under the HTML folder)."""
    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup.body or soup
    problems = []
    notebook = page.parts[1].removesuffix(".html") if len(page.parts) > 1 and page.parts[0] == "generated" else None
    if notebook is not None and notebook not in CODE_PAGES:
        unfolded = [cell for cell in article.select("div.cell_input") if cell.find_parent("details") is None]
        if unfolded:
            problems.append(f"{len(unfolded)} code cell(s) shown unfolded (tag them hide-input or remove-cell)")
    if notebook is None:  # a hand-written page: its code blocks are examples for a reader to adapt (cluster set-up)
        for block in article.select("pre"):
            block.decompose()
    paths = machine_paths(article.get_text(" "))
    if paths:
        problems.append(f"machine path(s): {', '.join(sorted(set(paths))[:5])}")
    header = soup.select_one("header.bd-header")
    if header is not None and (header.get_text(strip=True) or header.find(["a", "button", "input"])):
        problems.append("a bar across the top of the page: the theme's header is not empty (see book/_config.yml)")
    return problems


def check(html_dir: Path) -> dict[str, list[str]]:
    """Every page of the book at ``html_dir`` with its problems (pages without any left out)."""
    pages = sorted(path.relative_to(html_dir) for path in html_dir.rglob("*.html"))
    found = {}
    for page in pages:
        if ASSET_DIRS & set(page.parts[:-1]):
            continue
        problems = page_problems((html_dir / page).read_text(encoding="utf-8"), page)
        if problems:
            found[str(page)] = problems
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", type=Path, help="the built book, e.g. book/_build/html")
    args = parser.parse_args(argv)
    if not (args.html_dir / "index.html").is_file():
        print(f"error: {args.html_dir} holds no built book; build it first (make book)", file=sys.stderr)
        return 2
    found = check(args.html_dir)
    for page, problems in found.items():
        print(f"{page}: {'; '.join(problems)}")
    print(f"page check: {len(found)} page(s) with problems" if found else "page check: every page passes")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
