"""Every internal link and #anchor of the built book, with no network: each page parsed once.

Fails, naming the page and the link, when a page of ``book/_build/html`` links to (``href`` or ``src`` of ``<a>``,
``<img>``, ``<link>``, ``<script>``, ``<iframe>``, ``<source>``) a file of the site that does not exist, or to an
``#anchor`` that the target page does not hold (an element's ``id``, or an ``<a name=...>``). Links to other sites
are not followed (the check needs no network); a URL the page spells wrongly (``http:/x``) is a failure.

Sphinx's generated indexes (the API page, the general and module indexes, the highlighted sources under
``_modules/``) are checked as targets of the book's links, but their own ~1500 cross-references, Sphinx's, are not.

Why not LinkChecker (which ``make linkcheck`` ran until now): it fetches and parses a page again for each #anchor
that points into it, so the book's 407 URLs took 57–60 s of ``make test`` on 2 cores (its BeautifulSoup parse of the
3 MB Explore page alone repeated for every link there). Here every page is read once by the standard library's
streaming parser, and a link is two set lookups.

Command line (what ``make linkcheck`` calls)::

    python tools/link_check.py book/_build/html
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

# (tag, attribute) pairs that name a resource or a destination
LINK_ATTRIBUTES = {"a": "href", "area": "href", "img": "src", "link": "href", "script": "src", "iframe": "src",
                   "source": "src"}  # fmt: skip
# folders of assets, not pages (the theme's Jinja templates under _static/ look like HTML)
ASSET_DIRS = frozenset({"_static", "_sources", "_images", "_downloads"})
# pages whose own links are Sphinx's cross-references: checked as targets, not as sources
NOT_FOLLOWED = ("api.html", "genindex.html", "py-modindex.html", "_modules/")
# schemes of links to elsewhere than the site (not followed) and of links that are not resources at all
EXTERNAL_SCHEMES = frozenset({"http", "https", "ftp", "mailto", "tel"})
INERT_SCHEMES = frozenset({"data", "javascript", "blob", "about"})


@dataclass
class Page:
    """What one parsed page holds: its anchors and its links (with the line of each)."""

    anchors: set[str] = field(default_factory=set)
    links: list[tuple[str, int]] = field(default_factory=list)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        names = [values.get("id"), values.get("name") if tag == "a" else None]
        self.page.anchors.update(name for name in names if name)
        attribute = LINK_ATTRIBUTES.get(tag)
        url = values.get(attribute) if attribute else None
        if url:
            self.page.links.append((url.strip(), self.getpos()[0]))

    handle_startendtag = handle_starttag


def parse(html: str) -> Page:
    """The anchors and links of one page's HTML."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.page


def link_problem(
    url: str, page: PurePosixPath, pages: dict[PurePosixPath, Page], files: set[PurePosixPath]
) -> str | None:
    """What is wrong with ``url`` on ``page`` (both relative to the site's folder), or None when it resolves."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in EXTERNAL_SCHEMES:
        return None if parts.netloc or scheme in ("mailto", "tel") else "malformed URL"
    if scheme in INERT_SCHEMES:
        return None
    if scheme or parts.netloc:
        return f"unknown scheme or host {scheme or parts.netloc!r}"
    target = page
    if parts.path:
        resolved = []
        for part in (page.parent / unquote(parts.path)).parts:
            if part == "..":
                if not resolved:
                    return "leaves the site"
                resolved.pop()
            elif part != ".":
                resolved.append(part)
        target = PurePosixPath(*resolved) if resolved else PurePosixPath("index.html")
        if target not in files and target / "index.html" in files:
            target = target / "index.html"
        if target not in files:
            return "no such file in the site"
    anchor = unquote(parts.fragment)
    if anchor and target in pages and anchor not in pages[target].anchors:
        return f"{target} has no anchor #{anchor}"
    return None


def check(html_dir: Path) -> dict[str, list[str]]:
    """Every page of the book at ``html_dir`` whose links have problems, with them ("line N: URL: problem")."""
    files = {PurePosixPath(path.relative_to(html_dir).as_posix()) for path in html_dir.rglob("*") if path.is_file()}
    pages = {
        path: parse((html_dir / path).read_text(encoding="utf-8", errors="replace"))
        for path in files
        if path.suffix == ".html" and not ASSET_DIRS & set(path.parts[:-1])
    }
    found = {}
    for path in sorted(pages):
        if str(path).startswith(NOT_FOLLOWED):
            continue
        problems = [
            f"line {line}: {url}: {problem}"
            for url, line in pages[path].links
            if (problem := link_problem(url, path, pages, files)) is not None
        ]
        if problems:
            found[str(path)] = problems
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", type=Path, help="the built book, e.g. book/_build/html")
    args = parser.parse_args(argv)
    if not (args.html_dir / "index.html").is_file():
        print(f"error: {args.html_dir} holds no built book; build it first (make book)", file=sys.stderr)
        return 2
    start = time.perf_counter()
    found = check(args.html_dir)
    for page, problems in found.items():
        for problem in problems:
            print(f"{page}: {problem}")
    took = f"{time.perf_counter() - start:.1f} s"
    print(
        f"link check: {len(found)} page(s) with broken links ({took})"
        if found
        else f"link check: every link resolves ({took})"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
