"""Tests of the real-browser check: page discovery, the figure rule, and (where Chromium exists) a real run."""

from pathlib import Path

import matplotlib.image
import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from toys import toy_exploration

from tools import browser_check
from tools.browser_check import (
    ChromiumUnavailable,
    check_book,
    ensure_chromium,
    expected_figures,
    figure_requirements,
    html_pages,
    main,
    outside_requests,
    overflow_problem,
    source_notebook,
    title_problems,
)
from tsinsight import explorer

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><nav>{nav}</nav><article style="width: 600px">{body}</article></body></html>"""


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def page(body: str = "<p>text</p>", nav: str = "", title: str | None = None) -> str:
    return PAGE.format(body=body, nav=nav, title=title if title is not None else f"page {next(_TITLES)}")


_TITLES = iter(range(10**6))


def image_output(*mimes: str, kind: str = "display_data"):
    data = {mime: "<svg/>" if mime == "image/svg+xml" else "iVBORw0KGgo=" for mime in mimes}
    data["text/plain"] = "<Figure>"
    if kind == "execute_result":
        return new_output(kind, data=data, execution_count=1)
    return new_output(kind, data=data)


def write_notebook(path: Path, outputs_per_cell: list[tuple[list, dict]]) -> Path:
    cells = [new_markdown_cell("# Title")]
    for outputs, metadata in outputs_per_cell:
        cells.append(new_code_cell("plot()", outputs=outputs, metadata=metadata))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_html_pages_keeps_pages_and_skips_asset_folders(tmp_path):
    for name in ["index.html", "intro.html", "genindex.html", "search.html", "generated/train/ford_a.html",
                 "_modules/tsinsight/data.html", "_static/theme.html", "_sources/intro.html",
                 "_images/x.html", "_downloads/abc/y.html", ".doctrees/z.html", "generated/notes.txt"]:  # fmt: skip
        write(tmp_path / name, page())
    assert html_pages(tmp_path) == [
        Path(p)
        for p in [
            "_modules/tsinsight/data.html",
            "generated/train/ford_a.html",
            "genindex.html",
            "index.html",
            "intro.html",
            "search.html",
        ]
    ]


def test_html_pages_refuses_a_folder_without_a_built_book(tmp_path):
    write(tmp_path / "_static" / "a.html", page())
    with pytest.raises(FileNotFoundError, match="make book"):
        html_pages(tmp_path)


def test_expected_figures_counts_what_myst_nb_renders_as_images(tmp_path):
    notebook = write_notebook(
        tmp_path / "nb.ipynb",
        [
            ([image_output("image/png")], {}),  # counted
            ([image_output("image/svg+xml", "image/png")], {}),  # one output, one <img>: counted once
            ([image_output("image/jpeg", kind="execute_result"), image_output("image/gif")], {}),  # two counted
            ([image_output("image/png", "text/html")], {}),  # rendered as HTML, not an image
            ([image_output("image/png")], {"tags": ["remove-output"]}),
            ([image_output("image/png")], {"tags": ["remove-cell"]}),
            ([image_output("image/png")], {"mystnb": {"remove_code_outputs": True}}),
            ([new_output("stream", name="stdout", text="image/png")], {"tags": ["hide-output"]}),
            ([image_output("image/png")], {"tags": ["hide-input", "hide-output"]}),  # hidden, still on the page
        ],
    )
    assert expected_figures(notebook) == 5
    assert expected_figures(write_notebook(tmp_path / "none.ipynb", [([], {})])) == 0


def test_source_notebook_prefers_the_shipped_copy_then_the_book_folder(tmp_path):
    html = tmp_path / "book" / "_build" / "html"
    for name in ["generated/a.html", "generated/train/b.html", "generated/c.html", "intro.html"]:
        write(html / name, page())
    shipped = write_notebook(html / "_sources" / "generated" / "a.ipynb", [])
    write_notebook(tmp_path / "book" / "generated" / "a.ipynb", [])
    in_book = write_notebook(tmp_path / "book" / "generated" / "train" / "b.ipynb", [([image_output("image/png")], {})])
    assert source_notebook(html, "generated/a.html") == shipped.resolve()
    assert source_notebook(html, "generated/train/b.html") == in_book.resolve()
    assert source_notebook(html, "intro.html") is None
    write(html / "generated" / "d.html", page())  # a page not executed yet: a Markdown stand-in, no figures to check
    write(html / "_sources" / "generated" / "d.md", "not built yet")
    assert source_notebook(html, "generated/d.html") is None
    with pytest.raises(FileNotFoundError, match="generated/c.html"):
        source_notebook(html, "generated/c.html")
    write_notebook(tmp_path / "book" / "generated" / "c.ipynb", [([image_output("image/png")], {})] * 3)
    assert figure_requirements(html) == {
        Path("generated/a.html"): 0,
        Path("generated/c.html"): 3,
        Path("generated/train/b.html"): 1,
    }


def test_console_findings_fail_on_every_severe_entry_remote_ones_included():
    problems = browser_check._console_findings(
        [
            {"level": "SEVERE", "source": "javascript", "message": "file:///a.html 3:1 Uncaught Error: x"},
            {"level": "SEVERE", "source": "network", "message": "https://cdn.example/mathjax.js - Failed to load"},
            {"level": "WARNING", "source": "console-api", "message": "deprecated"},
            {"level": "INFO", "source": "console-api", "message": "hello"},
        ]
    )
    assert problems == [
        "console error: file:///a.html 3:1 Uncaught Error: x",
        "console error: https://cdn.example/mathjax.js - Failed to load",
    ]


def test_outside_requests_keeps_only_the_built_site_and_inline_data(tmp_path):
    site = tmp_path / "html"
    inside = (site / "_static" / "mathjax" / "tex-chtml.js").as_uri()
    urls = [
        inside,
        "data:image/png;base64,iVBORw0KGgo=",
        "blob:null/1234",
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js",
        "http://example.org/figure.png",
        (tmp_path / "elsewhere" / "x.js").as_uri(),
        (tmp_path / "html-other" / "y.css").as_uri(),  # a sibling whose name starts like the site's
    ]
    assert outside_requests(urls, site) == urls[3:]


def test_overflow_problem_compares_the_content_with_the_column():
    assert overflow_problem({"scroll_width": 800, "width": 800, "culprit": None}) is None
    assert overflow_problem({"scroll_width": 801, "width": 800, "culprit": None}) is None  # rounding
    problem = overflow_problem({"scroll_width": 1300, "width": 800, "culprit": '<table class="dataframe">'})
    assert problem == (
        "main column overflows horizontally: content 1300 px wide in a column of 800 px, "
        'first sticking out: <table class="dataframe">'
    )


def test_title_problems_flag_shared_and_empty_titles():
    problems = title_problems(
        {
            "index.html": "TSInsight, reproduced",
            "generated/train/ford_a.html": "Training — TSInsight, reproduced",
            "generated/train/ecg_thorax.html": "Training — TSInsight, reproduced",
            "blank.html": "  ",
            "redirect.html": None,
        }
    )
    assert problems == {
        "generated/train/ford_a.html": "title 'Training — TSInsight, reproduced' is also the title of "
        "generated/train/ecg_thorax.html",
        "generated/train/ecg_thorax.html": "title 'Training — TSInsight, reproduced' is also the title of "
        "generated/train/ford_a.html",
        "blank.html": "page has no title",
    }


def test_ensure_chromium_names_why_it_cannot_install(tmp_path, monkeypatch):
    monkeypatch.setattr(browser_check, "CHROMIUM", tmp_path / "chromium")
    with pytest.raises(ChromiumUnavailable, match="apt-get install -y chromium chromium-driver"):
        ensure_chromium(install=False)
    monkeypatch.setattr(browser_check.shutil, "which", lambda name: None)
    with pytest.raises(ChromiumUnavailable, match="no apt-get"):
        ensure_chromium()
    monkeypatch.setattr(browser_check.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None)
    monkeypatch.setattr(browser_check.os, "geteuid", lambda: 1000)
    with pytest.raises(ChromiumUnavailable, match="needs root"):
        ensure_chromium()


def test_main_skips_without_chromium_unless_required(tmp_path, monkeypatch, capsys):
    write(tmp_path / "index.html", page())

    def unavailable(**kwargs):
        raise ChromiumUnavailable("no apt-get here")

    monkeypatch.setattr(browser_check, "ensure_chromium", unavailable)
    assert main([str(tmp_path), "--no-progress"]) == 0
    assert "skipped" in capsys.readouterr().out
    assert main([str(tmp_path), "--require"]) == 2
    assert "--require" in capsys.readouterr().err


def test_main_fails_before_the_browser_on_a_generated_page_without_notebook(tmp_path, monkeypatch, capsys):
    write(tmp_path / "index.html", page())
    write(tmp_path / "generated" / "orphan.html", page())
    monkeypatch.setattr(browser_check, "ensure_chromium", lambda **kwargs: pytest.fail("must not reach the browser"))
    assert main([str(tmp_path)]) == 2
    assert "generated/orphan.html" in capsys.readouterr().err


@pytest.mark.skipif(not browser_check.CHROMIUM.is_file(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_real_browser_passes_clean_pages_and_catches_each_problem(tmp_path, capsys):
    if not browser_check.CHROMEDRIVER.is_file():
        pytest.skip("needs /usr/bin/chromedriver (apt-get install chromium-driver)")
    html = tmp_path / "book" / "_build" / "html"
    (html / "_images").mkdir(parents=True)
    matplotlib.image.imsave(html / "_images" / "fig.png", np.eye(4))
    figure = '<img src="../_images/fig.png" alt="figure">'
    write(html / "index.html", page('<img src="_images/fig.png"><img loading="lazy" style="margin-top:20000px" '
                                    'src="_images/fig.png">'))  # fmt: skip
    write(html / "broken.html", page('<img src="missing.png">'))
    write(html / "throws.html", page('<script>throw new Error("x")</script>'))
    write(html / "logs.html", page('<script>console.error("bad state")</script>'))
    write(
        html / "wide.html",
        page('<table cellspacing="0" cellpadding="0"><tr><td style="min-width: 1200px">wide</td></tr></table>'),
    )
    write(html / "scrolls.html", page('<div style="overflow-x: auto"><table><tr><td style="min-width: 1200px">'
                                      "wide</td></tr></table></div>"))  # fmt: skip
    write(html / "remote.html", page('<img src="http://127.0.0.1:9/remote.png">'))
    write(html / "twin-a.html", page(title="Twins"))
    write(html / "twin-b.html", page(title="Twins"))
    write(html / "to-twin.html", '<meta http-equiv="Refresh" content="0; url=twin-a.html" />')
    write(html / "raw_math.html", page('<div class="math notranslate nohighlight">\\[x^2\\]</div>'))
    # a MathJax whose startup settles before it typesets (seen once in CI): the check waits for the equations
    late_typeset = (
        '<div class="math notranslate nohighlight">\\[x^2\\]</div><script>'
        'window.MathJax = {version: "test", startup: {promise: Promise.resolve()}};'
        'setTimeout(() => { document.querySelector(".math").innerHTML = "<mjx-container>x</mjx-container>"; }, 1500);'
        "</script>"
    )
    write(html / "late_math.html", page(late_typeset))
    write(html / "generated" / "complete.html", page(figure * 2, nav='<img src="../_images/fig.png">'))
    write(html / "generated" / "incomplete.html", page(figure, nav='<img src="../_images/fig.png">'))
    two_figures = [([image_output("image/png")], {}), ([image_output("image/png")], {})]
    write_notebook(html / "_sources" / "generated" / "complete.ipynb", two_figures)
    write_notebook(tmp_path / "book" / "generated" / "incomplete.ipynb", two_figures)

    results = {r.page: r for r in check_book(html, progress=False)}
    assert set(results) == {
        "broken.html",
        "generated/complete.html",
        "generated/incomplete.html",
        "index.html",
        "late_math.html",
        "logs.html",
        "raw_math.html",
        "remote.html",
        "scrolls.html",
        "throws.html",
        "to-twin.html",
        "twin-a.html",
        "twin-b.html",
        "wide.html",
    }
    assert results["index.html"].ok and results["index.html"].images == 2, results["index.html"]
    assert results["generated/complete.html"].ok, results["generated/complete.html"]
    assert any("image does not load: missing.png" in p for p in results["broken.html"].problems)
    assert any("Uncaught Error: x" in p for p in results["throws.html"].problems)
    assert any("bad state" in p for p in results["logs.html"].problems)
    assert results["generated/incomplete.html"].problems == ["shows 1 image(s) but its notebook has 2 figure output(s)"]
    assert results["scrolls.html"].ok, results["scrolls.html"]
    assert [p for p in results["wide.html"].problems if "overflows" in p] == [
        "main column overflows horizontally: content 1200 px wide in a column of 600 px, first sticking out: "
        '<table class="">'
    ]
    assert "request outside the site: http://127.0.0.1:9/remote.png" in results["remote.html"].problems
    assert results["twin-a.html"].problems == ["title 'Twins' is also the title of twin-b.html"]
    assert results["to-twin.html"].ok and results["to-twin.html"].title is None
    assert results["raw_math.html"].problems == [
        "1 equation(s) not typeset by MathJax (shown as raw TeX; MathJax: not on the page)"
    ]
    assert results["late_math.html"].ok, results["late_math.html"]
    assert all(r.seconds > 0 for r in results.values())

    assert main([str(html), "--no-progress", "--require"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: throws.html: console error:" in out and "FAIL: index.html" not in out


def test_the_check_drives_the_explorer_by_the_names_it_gives_its_models():
    names = explorer.NAMES
    assert browser_check.EXPLORER_MODELS == {"rung": names["rung"], "method": names["method"],
                                             "drawn_by_rung": names["output"], "drawn_by_method": names["attribution"]}  # fmt: skip
    assert f'document.querySelector(".{explorer.CSS_CLASS}")' in browser_check._INSPECT_PAGE_JS


@pytest.mark.skipif(not browser_check.CHROMIUM.is_file(), reason="needs /usr/bin/chromium (apt-get install chromium)")
def test_real_browser_moves_the_explorers_slider_and_picks_another_method(tmp_path, monkeypatch):
    if not browser_check.CHROMEDRIVER.is_file():
        pytest.skip("needs /usr/bin/chromedriver (apt-get install chromium-driver)")
    html = tmp_path / "html"
    working = explorer.explorer_html([toy_exploration("one"), toy_exploration("two", rungs=4, channels=1, seed=1)])
    frozen = toy_exploration("one")  # every rung draws the same output, every method the same attribution
    frozen["outputs"][:] = frozen["outputs"][0]
    frozen["attributions"][:] = frozen["attributions"][0]
    write(html / "index.html", page(working))
    write(html / "frozen.html", page(explorer.explorer_html([frozen])))
    write(html / "throws.html", page(working.replace("const d = get(store, dataset.value);", "const d = undefined.x;")))

    monkeypatch.setattr(browser_check, "EXPLORER_WAIT_S", 3)  # the page that throws never draws: fail it sooner
    results = {r.page: r for r in check_book(html, progress=False)}
    assert results["index.html"].ok, results["index.html"]
    assert results["frozen.html"].problems == [
        "moving the explorer's slider from 2 to 1 changed nothing drawn",
        "picking random instead of gradient in the explorer changed nothing drawn",
    ]
    assert "the explorer drew nothing within 3 s" in results["throws.html"].problems
    assert any(p.startswith("console error:") for p in results["throws.html"].problems)
