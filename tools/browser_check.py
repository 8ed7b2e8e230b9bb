"""Real-browser check of the built book: every HTML page loaded in headless Chromium.

A built page can be broken in ways the Sphinx build never sees: a script that throws, an image that is
missing from ``_images/``, a notebook page whose figures did not make it into the HTML. This module loads
every page of ``book/_build/html`` through ``file://`` URLs in Debian's Chromium (driven by Selenium and the
system ``chromedriver``) and fails, listing each page and its problem, when

* the page logs a JavaScript error (a ``SEVERE`` entry of the browser console: an uncaught exception,
  ``console.error``, or a local file that failed to load);
* an ``<img>`` does not load (after waiting for it: ``complete`` and ``naturalWidth > 0``);
* a page generated from an executed notebook (under ``generated/``) shows fewer images in its article than
  its notebook has figure outputs (see :func:`expected_figures`);
* the page requests anything outside the site (:func:`outside_requests`): the book must read offline, MathJax
  included, so a CDN script or a remote image is a failure, whether or not the network let it load;
* an equation is left as raw TeX (MathJax did not typeset it);
* the main column (the theme's ``article``) overflows horizontally at a desktop window of 1400 × 1000 px: its
  ``scrollWidth`` exceeds its width, so the reader would have to scroll the page sideways (wide tables must scroll
  inside their own box instead; see :func:`overflow_problem`, which names the first element that sticks out);
* its ``<title>`` is empty or the same as another page's (:func:`title_problems`): the title is the page's entry
  in the sidebar and the browser's tab (a page that redirects, like Jupyter Book's ``index.html``, is skipped);
* it holds the Explore page's explorer (:mod:`tsinsight.explorer`) and the explorer does not answer the reader
  (:func:`explorer_problems`): moving its slider with the keyboard and picking another method in its menu must each
  change the data it draws, with no console error and no request outside the site afterwards either.

Pages checked: every ``*.html`` file of the tree except those in the asset folders ``_static`` (theme files),
``_sources`` (copies of the sources), ``_images`` and ``_downloads``. The generated ``genindex.html``,
``search.html`` and the ``_modules/`` source pages are kept: readers reach them from every page's navigation,
so a script error there is as visible as anywhere else.

Command line (what ``make browser-check`` calls)::

    python tools/browser_check.py book/_build/html [--require] [--no-progress]

When ``/usr/bin/chromium`` is missing the command installs ``chromium`` and ``chromium-driver`` with
``apt-get`` (as root, or through ``sudo -n``). Where that is impossible (no apt, no root, no network) it
prints why and exits 0 with "skipped", unless ``--require`` is given, then it exits 2. Exit 1 means a page
has a problem.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
APT_PACKAGES = ("chromium", "chromium-driver")
CHROME_ARGUMENTS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
)  # fmt: skip
ASSET_DIRS = frozenset({"_static", "_sources", "_images", "_downloads"})
GENERATED_DIR = "generated"
# Every image type myst-nb renders as <img> in HTML.
IMAGE_MIMES = ("image/svg+xml", "image/png", "image/gif", "image/jpeg")
# myst-nb's HTML render priority puts these above images: an output carrying one shows it instead of its image.
RICHER_MIMES = ("application/vnd.jupyter.widget-view+json", "application/javascript", "text/html")
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output", "remove-cell", "remove_cell"})
# URL schemes that never leave the machine (file: is further limited to the built site by outside_requests).
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
# Waits for every image (lazy ones switched to eager) and MathJax's typesetting to settle, then reports the images
# and the article's count, every resource the page requested, its title, equations left untypeset and the width
# of the main column against its content (with the first element that sticks out, outside any scrolling box).
_INSPECT_PAGE_JS = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach((img) => { if (img.loading === "lazy") img.loading = "eager"; });
const settled = images.map((img) => img.complete ? Promise.resolve() : new Promise((resolve) => {
    img.addEventListener("load", resolve, {once: true});
    img.addEventListener("error", resolve, {once: true});
}));
// A CI run found every equation of a page raw after awaiting MathJax's startup promise (cause unknown; it passed here):
// on a page that loads MathJax, wait until no equation is raw (or the limit), and report how its startup ended.
const rawMath = () => Array.from(document.querySelectorAll(".math")).filter((el) => !el.querySelector("mjx-container"));
const loadsMathJax = window.MathJax !== undefined || document.querySelector('script[src*="mathjax" i]') !== null;
let mathjaxStartup = "never settled";
settled.push(new Promise((resolve) => {
    let hooked = false;
    const poll = () => {
        const startup = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
        if (startup && !hooked) {
            hooked = true;
            startup.then(() => { mathjaxStartup = "settled"; }, (error) => { mathjaxStartup = `failed: ${error}`; });
        }
        if (rawMath().length === 0) resolve(); else setTimeout(poll, 50);
    };
    if (loadsMathJax) poll(); else resolve();
}));
const limit = new Promise((resolve) => setTimeout(resolve, arguments[0]));
Promise.race([Promise.all(settled), limit]).then(() => requestAnimationFrame(() => {
    const article = document.querySelector("article") || document.querySelector("main") || document.body;
    const right = article.getBoundingClientRect().right;
    const scrolls = (el) => {
        for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== "visible") return true;
        }
        return false;
    };
    const sticking = article.scrollWidth > article.clientWidth + 1
        ? Array.from(article.querySelectorAll("*")).find((el) => el.getBoundingClientRect().right > right + 1 && !scrolls(el))
        : null;
    done({
        images: images.filter((img) => img.getAttribute("src")).map((img) => ({
            src: img.getAttribute("src"), complete: img.complete, width: img.naturalWidth})),
        article_images: article.querySelectorAll("img").length,
        requests: performance.getEntriesByType("resource").map((entry) => entry.name),
        title: document.title,
        explorer: document.querySelector(".tsinsight-explorer") !== null,
        raw_math: rawMath().length,
        mathjax: !loadsMathJax ? "not on the page"
            : window.MathJax && window.MathJax.version ? `${window.MathJax.version} loaded, startup ${mathjaxStartup}`
            : "never loaded",
        layout: {scroll_width: article.scrollWidth, width: article.clientWidth,
                 culprit: sticking ? `<${sticking.tagName.toLowerCase()} class="${sticking.className}">` : null},
    });
}));
"""


# The explorer's Bokeh models by name (tsinsight.explorer.NAMES; a test keeps the two in step): the slider and the menu
# a reader uses, and the line sources each redraws.
EXPLORER_MODELS = {"rung": "explore-rung", "method": "explore-method", "drawn_by_rung": "explore-output",
                   "drawn_by_method": "explore-attribution"}  # fmt: skip
EXPLORER_WAIT_S = 10  # the longest the explorer may take to draw first
# Waits (EXPLORER_WAIT_S at most) for the explorer's first drawing, then reports its slider and menu (their values and the
# elements a reader acts on, inside Bokeh's shadow DOM) and the lines they drive. null: it never drew.
_EXPLORER_STATE_JS = """
const [names, wait_ms] = [arguments[0], arguments[1]];
const done = arguments[arguments.length - 1];
const started = Date.now();
const poll = () => {
    const doc = window.Bokeh && Bokeh.documents.find((d) => d.get_model_by_name(names.rung));
    const drawn = doc && doc.get_model_by_name(names.drawn_by_rung);
    if (!doc || !drawn || drawn.data.ys.length === 0) {
        if (Date.now() - started > wait_ms) done(null); else setTimeout(poll, 50);
        return;
    }
    const rung = doc.get_model_by_name(names.rung), method = doc.get_model_by_name(names.method);
    done({
        rung: rung.value, start: rung.start, method: method.value,
        options: method.options.map((option) => (Array.isArray(option) ? option : [option, option])),
        by_rung: JSON.stringify(drawn.data.ys),
        by_method: JSON.stringify(doc.get_model_by_name(names.drawn_by_method).data.ys),
        handle: Bokeh.index.find_one(rung).shadow_el.querySelector(".noUi-handle"),
        select: Bokeh.index.find_one(method).shadow_el.querySelector("select"),
    });
};
poll();
"""


@dataclass
class PageResult:
    """What the browser saw on one page: its problems (failures), images, title and load time."""

    page: str
    problems: list[str] = field(default_factory=list)
    images: int = 0
    seconds: float = 0.0
    title: str | None = None  # None: the page redirected elsewhere (its title is its target's)

    @property
    def ok(self) -> bool:
        return not self.problems


class ChromiumUnavailable(RuntimeError):
    """Chromium or its driver is missing and could not be installed; the message says why."""


def html_pages(html_dir: str | os.PathLike) -> list[Path]:
    """Every page of a built book, as paths relative to ``html_dir``, sorted (asset folders left out)."""
    root = Path(html_dir)
    if not (root / "index.html").is_file() and not any(root.glob("*.html")):
        raise FileNotFoundError(f"{root} holds no built book (no .html at its top); build it first with `make book`")
    pages = [path.relative_to(root) for path in root.rglob("*.html")]
    return sorted(page for page in pages if not (ASSET_DIRS & set(page.parts[:-1])) and page.parts[0][0] != ".")


def expected_figures(notebook: str | os.PathLike) -> int:
    """The number of figures a notebook's HTML page must show.

    One per output (``display_data`` or ``execute_result``) that carries an image and none of the types
    myst-nb prefers over images in HTML (widget, JavaScript, HTML), in cells whose outputs are not removed
    (tags ``remove-output``/``remove-cell`` or cell metadata ``mystnb.remove_code_outputs``).
    """
    nb = nbformat.read(notebook, as_version=4)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        metadata = cell.get("metadata", {})
        if REMOVE_OUTPUT_TAGS & set(metadata.get("tags", [])) or metadata.get("mystnb", {}).get("remove_code_outputs"):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {}) if output.get("output_type") in ("display_data", "execute_result") else {}
            if any(mime in data for mime in IMAGE_MIMES) and not any(mime in data for mime in RICHER_MIMES):
                count += 1
    return count


def source_notebook(html_dir: str | os.PathLike, page: str | os.PathLike) -> Path | None:
    """The executed notebook a page was built from, or None when the page is not under ``generated/`` or stands in
    for a page not executed yet (a Markdown source: the optional "Your model" page before ``make notebook``).

    Looked up as ``<html>/_sources/<page>.ipynb`` (the copy Sphinx ships with the page) and then as
    ``<book>/<page>.ipynb`` (``<book>`` = the folder holding ``_build``). Raises FileNotFoundError for a
    generated page found in neither, since its figures could not be checked.
    """
    page = Path(page)
    if page.parts[0] != GENERATED_DIR:
        return None
    root = Path(html_dir).resolve()
    if (root / "_sources" / page.with_suffix(".md")).is_file():
        return None
    candidates = [root / "_sources" / page.with_suffix(".ipynb"), root.parent.parent / page.with_suffix(".ipynb")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"no source notebook for generated page {page} (tried {tried}); rebuild the book")


def figure_requirements(html_dir: str | os.PathLike, pages: list[Path] | None = None) -> dict[Path, int]:
    """Page → number of figures it must show, for every generated page (from its source notebook)."""
    pages = html_pages(html_dir) if pages is None else pages
    required = {}
    for page in pages:
        notebook = source_notebook(html_dir, page)
        if notebook is not None:
            required[page] = expected_figures(notebook)
    return required


def _run_as_root() -> list[str] | None:
    """The command prefix that runs apt-get as root: [] when root, ["sudo", "-n"] when allowed, else None."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def ensure_chromium(*, install: bool = True) -> None:
    """Make sure ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` exist, installing them with apt-get if not.

    Prints every command it runs. Raises :class:`ChromiumUnavailable` naming the reason when they are
    missing and cannot be installed (``install=False``, no apt-get, neither root nor password-less sudo,
    or apt-get failing, e.g. without network).
    """
    if CHROMIUM.is_file() and CHROMEDRIVER.is_file():
        return
    missing = " and ".join(str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file())
    if not install:
        raise ChromiumUnavailable(f"{missing} missing; install with `apt-get install -y {' '.join(APT_PACKAGES)}`")
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        raise ChromiumUnavailable(f"{missing} missing and there is no apt-get to install Debian's Chromium")
    prefix = _run_as_root()
    if prefix is None:
        raise ChromiumUnavailable(
            f"{missing} missing and installing needs root: run `sudo apt-get install -y {' '.join(APT_PACKAGES)}`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([*prefix, apt_get, "update"], [*prefix, apt_get, "install", "-y", *APT_PACKAGES]):
        print("browser check: $", " ".join(command), flush=True)
        result = subprocess.run(command, env=env, stdout=sys.stderr, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            raise ChromiumUnavailable(f"`{' '.join(command)}` failed (exit {result.returncode}); no network?")
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        raise ChromiumUnavailable(f"apt-get installed {', '.join(APT_PACKAGES)} but {missing} is still missing")


def start_browser():
    """A headless Chromium driven by the system chromedriver, with the browser console logged.

    Selenium Manager is kept offline and out of the way: the driver path is given explicitly, so nothing
    is downloaded.
    """
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in CHROME_ARGUMENTS:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver


def _console_findings(entries: list[dict]) -> list[str]:
    """The problems among console entries: every SEVERE one (a remote resource that failed to load included)."""
    return [f"console error: {entry.get('message', '')}" for entry in entries if entry.get("level") == "SEVERE"]


def outside_requests(urls: list[str], html_dir: str | os.PathLike) -> list[str]:
    """The requests of a page that leave the site: any scheme but file/data/blob/about, or a file outside ``html_dir``."""
    root = Path(html_dir).resolve().as_uri() + "/"
    return [
        url
        for url in urls
        if not url.startswith(LOCAL_SCHEMES) or (url.startswith("file:") and not url.startswith(root))
    ]


def overflow_problem(layout: dict) -> str | None:
    """The problem of a main column whose content is wider than the column (``scroll_width`` > ``width``), or None."""
    if layout["scroll_width"] <= layout["width"] + 1:  # one pixel of rounding
        return None
    culprit = f", first sticking out: {layout['culprit']}" if layout.get("culprit") else ""
    return (
        f"main column overflows horizontally: content {layout['scroll_width']} px wide in a column of "
        f"{layout['width']} px{culprit}"
    )


def title_problems(titles: dict[str, str | None]) -> dict[str, str]:
    """Page → problem for every page whose title is empty or shared with another page (None: a redirect, skipped)."""
    pages_by_title: dict[str, list[str]] = {}
    for page, title in titles.items():
        if title is None:
            continue
        pages_by_title.setdefault(title.strip(), []).append(page)
    problems = {}
    for title, pages in pages_by_title.items():
        for page in pages:
            if not title:
                problems[page] = "page has no title"
            elif len(pages) > 1:
                others = ", ".join(other for other in pages if other != page)
                problems[page] = f"title {title!r} is also the title of {others}"
    return problems


def check_page(driver, html_dir: str | os.PathLike, page: Path, required_figures: int = 0) -> PageResult:
    """Load one page in ``driver`` and return what went wrong on it."""
    from selenium.common.exceptions import WebDriverException

    result = PageResult(str(page))
    driver.get_log("browser")  # drop what earlier pages left in the log
    start = time.perf_counter()
    try:
        driver.get((Path(html_dir).resolve() / page).as_uri())
        seen = driver.execute_async_script(_INSPECT_PAGE_JS, 10_000)
    except WebDriverException as error:  # a page that hangs or crashes the tab fails alone, not the whole run
        result.problems.append(f"page did not load: {error.msg}")
        return result
    finally:
        result.seconds = time.perf_counter() - start
    result.problems = _console_findings(driver.get_log("browser"))
    result.problems += [f"request outside the site: {url}" for url in outside_requests(seen["requests"], html_dir)]
    result.images = len(seen["images"])
    # a redirect (Jupyter Book's index.html) shows its target's title: only a page the browser stayed on has its own
    result.title = seen["title"] if driver.current_url == (Path(html_dir).resolve() / page).as_uri() else None
    for image in seen["images"]:
        if not image["complete"]:
            result.problems.append(f"image still loading after 10 s: {image['src']}")
        elif image["width"] == 0:
            result.problems.append(f"image does not load: {image['src']}")
    if seen["article_images"] < required_figures:
        result.problems.append(
            f"shows {seen['article_images']} image(s) but its notebook has {required_figures} figure output(s)"
        )
    if seen["explorer"]:
        result.problems += explorer_problems(driver)
        result.problems += _console_findings(driver.get_log("browser"))
        after = driver.execute_script("return performance.getEntriesByType('resource').map((entry) => entry.name)")
        result.problems += [f"request outside the site: {url}" for url in outside_requests(after, html_dir)
                            if url not in seen["requests"]]  # fmt: skip
    if seen["raw_math"]:
        result.problems.append(
            f"{seen['raw_math']} equation(s) not typeset by MathJax (shown as raw TeX; MathJax: {seen['mathjax']})"
        )
    overflow = overflow_problem(seen["layout"])
    if overflow:
        result.problems.append(overflow)
    return result


def explorer_problems(driver) -> list[str]:
    """What is wrong with the explorer on the page loaded in ``driver``, used as a reader would: its slider moved one
    step with the keyboard, another method picked in its menu; each must change the lines it drives."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    def state():
        return driver.execute_async_script(_EXPLORER_STATE_JS, EXPLORER_MODELS, 1000 * EXPLORER_WAIT_S)

    before = state()
    if before is None:
        return [f"the explorer drew nothing within {EXPLORER_WAIT_S} s"]
    before["handle"].send_keys(Keys.ARROW_LEFT if before["rung"] > before["start"] else Keys.ARROW_RIGHT)
    moved = state()
    problems = []
    if moved["rung"] == before["rung"]:
        problems.append("the explorer's slider did not move under the keyboard")
    elif moved["by_rung"] == before["by_rung"]:
        problems.append(f"moving the explorer's slider from {before['rung']} to {moved['rung']} changed nothing drawn")
    other, label = next((option for option in moved["options"] if option[0] != moved["method"]), (None, None))
    if other is None:
        return [*problems, "the explorer's method menu offers a single method"]
    Select(moved["select"]).select_by_visible_text(label)  # Bokeh's <option>s carry the labels, not the values
    picked = state()
    if picked["method"] != other:
        problems.append(f"picking {other} in the explorer's method menu did not take")
    elif picked["by_method"] == moved["by_method"]:
        problems.append(f"picking {other} instead of {moved['method']} in the explorer changed nothing drawn")
    return problems


def check_book(
    html_dir: str | os.PathLike, *, required: dict[Path, int] | None = None, progress: bool = True
) -> list[PageResult]:
    """Load every page of the built book in headless Chromium; one :class:`PageResult` per page.

    Chromium must be installed (see :func:`ensure_chromium`). ``required`` is :func:`figure_requirements`'
    answer, computed when not given (so a generated page without a notebook fails before the browser starts).
    """
    pages = html_pages(html_dir)
    required = figure_requirements(html_dir, pages) if required is None else required
    driver = start_browser()
    try:
        results = [
            check_page(driver, html_dir, page, required.get(page, 0))
            for page in tqdm(pages, desc="browser check", unit="page", disable=not progress)
        ]
    finally:
        driver.quit()
    for page, problem in title_problems({result.page: result.title for result in results}).items():
        next(result for result in results if result.page == page).problems.append(problem)
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line: check a built book; exit 0 when every page is clean (or skipped), 1 on problems, 2 on errors."""
    parser = argparse.ArgumentParser(prog="python tools/browser_check.py", description=__doc__.split("\n")[0])
    parser.add_argument("html_dir", type=Path, help="the built book, e.g. book/_build/html")
    parser.add_argument("--require", action="store_true", help="fail (exit 2) instead of skipping without Chromium")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        required = figure_requirements(args.html_dir)
    except FileNotFoundError as error:
        print(f"browser check: error: {error}", file=sys.stderr)
        return 2
    try:
        ensure_chromium()
    except ChromiumUnavailable as error:
        print(f"browser check: {error}", file=sys.stderr)
        if args.require:
            print("browser check: failed: Chromium is required (--require)", file=sys.stderr)
            return 2
        print("browser check: skipped (Chromium cannot be installed here)")
        return 0
    start = time.perf_counter()
    results = check_book(args.html_dir, required=required, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    for result in results:
        for problem in result.problems:
            print(f"FAIL: {result.page}: {problem}")
    failed = [r for r in results if not r.ok]
    per_page = sum(r.seconds for r in results) / max(len(results), 1)
    summary = {
        "pages": len(results),
        "failed": len(failed),
        "seconds": round(seconds, 1),
        "seconds_per_page": round(per_page, 3),
    }
    print(f"browser check: {json.dumps(summary)}")
    if failed:
        print(f"browser check: FAILED on {len(failed)} of {len(results)} pages", file=sys.stderr)
        return 1
    print(f"browser check: all {len(results)} pages clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
