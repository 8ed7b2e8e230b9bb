"""The link check of the built book (tools/link_check.py): every internal link and #anchor, each page parsed once."""

from pathlib import Path

from tools import link_check


def site(root: Path, pages: dict[str, str]) -> Path:
    for name, html in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    return root


GOOD = {
    "index.html": '<a href="intro.html">intro</a> <a href="generated/train/ford_a.html#results">results</a>',
    "intro.html": '<h1 id="intro">Intro</h1><a href="#intro">self</a> <img src="_images/fig.png">'
    '<a href="https://example.org/x#y">elsewhere</a> <a href="mailto:someone@example.org">mail</a>'
    '<a name="old-style"></a><a href="intro.html#old-style">old</a> <a href="data:text/plain,hi">inline</a>',
    "generated/train/ford_a.html": '<section id="results"><a href="../../intro.html#intro">up</a>'
    '<a href="../../_downloads/abc/train.ipynb">download</a><script src="../../_static/x.js"></script></section>',
    "_images/fig.png": "png",
    "_downloads/abc/train.ipynb": "{}",
    "_static/x.js": "",
    # the theme's templates are assets, not pages: their Jinja links are never checked
    "_static/webpack-macros.html": "<link href=\"{{ pathto('_static/missing.css', 1) }}\">",
    # Sphinx's own cross-references are checked as targets only
    "genindex.html": '<a href="missing.html#nowhere">Sphinx</a>',
}


def test_a_book_whose_links_all_resolve_passes(tmp_path):
    assert link_check.check(site(tmp_path, GOOD)) == {}
    assert link_check.main([str(tmp_path)]) == 0


def test_each_broken_link_is_named_with_its_page_and_line(tmp_path):
    broken = {
        **GOOD,
        "index.html": '<a href="intro.html#missing">a</a>\n<a href="gone.html">b</a>\n<img src="_images/none.png">'
        '\n<a href="../outside.html">c</a>\n<a href="http:/typo">d</a>\n<a href="generated/train/ford_a.html#results">ok</a>',
    }
    found = link_check.check(site(tmp_path, broken))
    assert list(found) == ["index.html"]
    assert found["index.html"] == [
        "line 1: intro.html#missing: intro.html has no anchor #missing",
        "line 2: gone.html: no such file in the site",
        "line 3: _images/none.png: no such file in the site",
        "line 4: ../outside.html: leaves the site",
        "line 5: http:/typo: malformed URL",
    ]
    assert link_check.main([str(tmp_path)]) == 1


def test_a_link_to_a_folder_finds_its_index_and_anchors_are_unquoted(tmp_path):
    pages = {
        "index.html": '<a href="generated/">folder</a> <a href="intro.html#caf%C3%A9">quoted</a>',
        "generated/index.html": "<p>x</p>",
        "intro.html": '<h2 id="café">Café</h2>',
    }
    assert link_check.check(site(tmp_path, pages)) == {}


def test_no_built_book_is_an_error_that_says_to_build(tmp_path, capsys):
    assert link_check.main([str(tmp_path)]) == 2
    assert "make book" in capsys.readouterr().err
