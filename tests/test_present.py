"""Issue 36: every page opens on what it found, its provenance folded, its code one click away, no machine path."""

import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tsinsight import experiments
from tsinsight.runner import edition, numbers, plan, present

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import page_check  # noqa: E402


def cell(source, tags=(), outputs=()):
    made = new_code_cell(source, metadata={"tags": list(tags)} if tags else {})
    made.outputs = list(outputs)
    return made


def shown(text):
    return new_output("display_data", data={"text/plain": text})


def test_code_is_folded_plumbing_removed_and_a_saves_path_dropped():
    saved = new_output("execute_result", data={"text/plain": "PosixPath('/tmp/ed/artifacts/results/cpu/x.csv')"})
    page = new_notebook(
        cells=[
            new_markdown_cell("# A page"),
            cell("import numpy as np\nfrom tsinsight import results\nbudget = get_profile(profile)"),
            cell("page_header(profile)", tags=["hide-input"]),
            cell("table = compute()\ntable", outputs=[shown("a table")]),
            cell("curves = compute()"),
            cell("costs = compute()\nresults.save('costs', costs, profile)", outputs=[saved]),
            cell("import pandas as pd\ndisplay(pd.DataFrame())", outputs=[shown("a frame")]),
            cell("%matplotlib inline"),
            cell("kept()", tags=["remove-input"], outputs=[shown("kept")]),
        ]
    )
    present.fold_code(page, "train")
    tags = [c.metadata.get("tags") for c in page.cells[1:]]
    assert tags == [["remove-cell"], ["remove-cell"], ["hide-input"], ["hide-input"], ["hide-input"], ["hide-input"],
                    ["hide-input"], ["remove-input"]]  # fmt: skip
    assert page.cells[5].outputs == [], "a cell ending in save(...) shows no path"
    assert present.unfolded_cells(page, "train") == []
    assert present.machine_paths(present.shown_text(page)) == []
    before = nbformat.writes(page)
    present.fold_code(page, "train")
    assert nbformat.writes(page) == before, "folding twice changes nothing"


def test_pages_whose_subject_is_code_keep_it_and_an_unfolded_cell_is_found():
    page = new_notebook(
        cells=[new_markdown_cell("# Quick start"), cell("model = fit()"), cell("seed = 1", ["injected-parameters"])]
    )
    present.fold_code(page, "quickstart")
    assert page.cells[1].metadata.get("tags") is None and present.unfolded_cells(page, "quickstart") == []
    assert page.cells[2].metadata.tags == ["injected-parameters", "remove-cell"], "named by the re-run line"
    assert present.unfolded_cells(page, "train") == [1]


def test_machine_paths_are_found_and_urls_and_relative_paths_are_not():
    assert present.machine_paths("saved to /tmp/ed/artifacts/x.csv") == ["/tmp/ed/artifacts/x.csv"]
    assert present.machine_paths("PosixPath('results/x.csv')") == ["PosixPath("]
    assert present.machine_paths(r"read C:\Users\me\data") == [r"C:\Users\me\data"]
    clean = "see https://ubicomp.eti.uni-siegen.de/home/datasets/ and results/cpu/x.csv, zero/lerf, 5 s/1000"
    assert present.machine_paths(clean) == []


def test_shown_text_leaves_out_what_an_html_output_does_not_show():
    script = '<script type="text/javascript">s.replace(/_/g, "-")</script>'
    html = f"<div>kept in /home/me/run.csv</div>{script}<style>a{{}}</style>"
    page = new_notebook(cells=[new_code_cell("show()", outputs=[new_output("display_data", {"text/html": html})])])
    shown = present.shown_text(page)
    assert present.machine_paths(shown) == ["/home/me/run.csv"] and "replace" not in shown and "a{}" not in shown


def test_the_findings_box_lists_the_claims_or_counts_every_one():
    table = pd.DataFrame(
        dict(figure=["Table 3", "Table 3", "Fig. 4"], dataset=["ford_a", "ford_a", "all"],
             claim=["Acc.", "Keeps.", "Ranks first."], ours=["90.2 %", "+0.8 points", "rank 7"],
             verdict=["not comparable", "reproduced", "not reproduced"])
    )  # fmt: skip
    box = present.findings_markdown(table.iloc[:2])
    assert "What this page found" in box and "- **[+] reproduced** — FordA: Keeps. Ours: +0.8 points." in box
    counted = present.findings_markdown(table, everything=True)
    assert "**3 claims of the paper:** 1 reproduced, 1 not reproduced, 1 not comparable." in counted
    assert "- Fig. 4: 1 not reproduced" in counted and present.findings_markdown(table.iloc[:0]) is None


def test_a_section_declared_as_the_findings_comes_first(monkeypatch):
    monkeypatch.setattr(plan, "declaration", lambda notebook: {"findings": {"section": "In short"}})
    page = new_notebook(
        cells=[
            new_markdown_cell("# Later"),
            new_markdown_cell("## Where"),
            cell("where()"),
            new_markdown_cell("## In short\n\nText."),
            cell("short()", outputs=[shown("ranks")]),
            new_markdown_cell("## Mean ranks"),
        ]  # fmt: skip
    )
    for _ in range(2):  # presenting twice gives the same page
        present.present(page, "later_explainers", "Profile `cpu`", ["- **Runs:** 2"])
        sources = [c.source.splitlines()[0] for c in page.cells]
        assert sources == ["# Later", "## In short", "short()", present.PROVENANCE_MARK, "## Where", "where()",
                           "## Mean ranks"]  # fmt: skip


def committed_runs():
    pages = edition.edition_dir("cpu") / "pages"
    for path in sorted(pages.rglob("*.ipynb")):
        parts = path.relative_to(pages).with_suffix("").parts
        yield path, plan.Run(parts[0], {"dataset": parts[1]} if len(parts) > 1 else {})


@pytest.mark.skipif(edition.provenance("cpu") is None, reason="no committed cpu edition")
def test_every_page_of_the_committed_edition_is_shown_folded_and_without_a_machine_path():
    kept = edition.provenance("cpu")
    verdicts = pd.read_csv(edition.edition_dir("cpu") / "verdicts.csv")
    problems, seen = {}, 0
    for path, run in committed_runs():
        page = nbformat.read(path, as_version=4)
        edition.shown(page, kept, run, verdicts, local=False)
        seen += 1
        unfolded = present.unfolded_cells(page, run.notebook)
        paths = present.machine_paths(present.shown_text(page))
        if unfolded or paths:
            problems[str(run)] = (unfolded, paths)
        assert sum(present.PROVENANCE_MARK in c.get("source", "") for c in page.cells) == 1
        assert "papermill" not in page.metadata, "papermill's paths and times are not kept"
    assert seen >= 30 and problems == {}


def test_the_html_check_finds_an_unfolded_cell_and_a_path_but_not_a_folded_one():
    folded = '<div class="cell tag_hide-input"><details><summary>Show</summary><div class="cell_input">x</div></details></div>'
    unfolded = '<div class="cell"><div class="cell_input">y = 1</div></div>'
    page = Path("generated/train/ford_a.html")
    assert page_check.page_problems(f"<article>{folded}</article>", page) == []
    assert page_check.page_problems(f"<article>{unfolded}</article>", Path("generated/quickstart.html")) == []
    found = page_check.page_problems(f"<article>{unfolded}<p>wrote /tmp/ed/x.csv</p></article>", page)
    assert found == [
        "1 code cell(s) shown unfolded (tag them hide-input or remove-cell)",
        "machine path(s): /tmp/ed/x.csv",
    ]
    example = "<article><pre>export TSINSIGHT_DATA_MIRROR=/shared/data</pre></article>"
    assert page_check.page_problems(example, Path("cluster.html")) == [], "a hand-written page's example command"
    search = '<button class="btn search-button-field"><span>Search</span></button>'
    top_bar = f'<header class="bd-header navbar"><div class="navbar-persistent--container">{search}</div></header>'
    assert (
        page_check.page_problems(f'<header class="bd-header navbar">\n</header><article>{folded}</article>', page) == []
    )
    assert page_check.page_problems(f"{top_bar}<article>{folded}</article>", page) == [
        "a bar across the top of the page: the theme's header is not empty (see book/_config.yml)"
    ]


def test_the_rest_of_the_introduction_follows_the_findings_and_the_provenance():
    page = new_notebook(
        cells=[
            new_markdown_cell("# Sanity\n\nDo attributions depend on the model?\n\nHow: randomise.\n\nMore."),
            new_markdown_cell("## Steps"),
            cell("steps()"),
        ]  # fmt: skip
    )
    box = present.box(["- 3 of 13 methods stay the same."])
    for _ in range(2):  # presenting twice gives the same page
        present.present(page, "sanity", "Profile `cpu`", ["- **Runs:** 1"], box)
        assert page.cells[0].source == "# Sanity\n\nDo attributions depend on the model?"
        assert present.FINDINGS_MARK in page.cells[1].source and present.PROVENANCE_MARK in page.cells[2].source
        assert page.cells[3].source == f"{present.INTRO_MARK}\nHow: randomise.\n\nMore.\n"
        assert page.cells[4].source == "## Steps"
    short = new_notebook(cells=[new_markdown_cell("# Glance\n\nWhat did this build find?")])
    assert present.split_intro(short) is None and short.cells[0].source == "# Glance\n\nWhat did this build find?"


def test_a_page_without_a_claim_gets_its_main_numbers_from_its_own_table(tmp_path):
    run = plan.Run("ground_truth", {"dataset": "synthetic_anomaly"})
    assert present.page_findings(run, "cpu", tables=tmp_path) is None, "no table, no box"
    scores = pd.DataFrame(dict(method=["random", "tsinsight", "occlusion"] * 2, run=[0, 0, 0, 1, 1, 1],
                               aup=[0.01, 0.30, 0.20, 0.01, 0.50, 0.20], aur=[0.48, 0.90, 0.95, 0.50, 0.94, 0.97],
                               top1=[0.02, 0.60, 0.40, 0.02, 0.80, 0.40]))  # fmt: skip
    scores.to_csv(tmp_path / "ground_truth.csv", index=False)
    box = present.page_findings(run, "cpu", tables=tmp_path)
    assert "What this page found" in box
    assert "the best method is **Occlusion** (AUR 0.960, top-1 40%)" in box
    assert "TSInsight ranks **2 of 3**: AUR 0.920, the anomaly first in 70% of the samples" in box
    assert "(random ranks: 0.490, 2%)" in box
    scores.loc[scores["method"] == "tsinsight", "aur"] = 0.99
    scores.to_csv(tmp_path / "ground_truth.csv", index=False)
    assert "TSInsight ranks **1 of 3**: AUR 0.990" in present.page_findings(run, "cpu", tables=tmp_path)


def test_the_suppression_pages_numbers_are_those_of_its_curves(tmp_path):
    levels = [0.0, 0.5, 1.0]
    rows = [dict(method=method, level=level, accuracy=accuracy, run=run, dataset="ford_a")
            for method, accuracies in {"none": (0.9, 0.9, 0.9), "tsinsight": (0.9, 0.8, 0.5), "random": (0.9, 0.6, 0.5),
                                       "occlusion": (0.9, 0.85, 0.6)}.items()
            for run in (0, 1) for level, accuracy in zip(levels, accuracies, strict=True)]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "suppression_ford_a.csv", index=False)
    box = present.page_findings(plan.Run("suppression", {"dataset": "ford_a"}), "cpu", tables=tmp_path)
    # trapezoid areas: occlusion 0.800, tsinsight 0.750, random 0.650; two runs are shown as the runs
    assert "TSInsight ranks **2 of 3** by area under the suppression curve on FordA (AUC 0.750 (0.750, 0.750))" in box
    assert "the best is Occlusion (0.800 (0.800, 0.800)); the unsuppressed input scores 0.900." in box


def test_an_example_table_says_what_each_method_keeps():
    evidence = np.zeros((1, 40), bool)
    evidence[0, 7] = True
    spike = np.zeros((1, 40))
    spike[0, 7], spike[0, 8] = 3.0, 1.0
    table = experiments.example_table(
        {"peaked": spike, "flat": np.ones((1, 40)), "none": np.zeros((1, 40))}, 5, evidence
    )
    rows = table.set_index("method")
    assert rows.loc["peaked", "top_share"] == pytest.approx(1.0) and rows.loc["peaked", "keeps_evidence"]
    assert rows.loc["flat", "top_share"] == pytest.approx(2 / 40), "5 % of 40 points: 2 kept"
    assert np.isnan(rows.loc["none", "top_share"]) and set(table["index"]) == {5}
    assert experiments.example_table({"flat": np.ones((1, 40))}, 5)["keeps_evidence"].isna().all()


@pytest.mark.skipif(edition.provenance("cpu") is None, reason="no committed cpu edition")
def test_the_committed_editions_pages_without_a_claim_show_their_main_numbers():
    kept = edition.provenance("cpu")
    verdicts = pd.read_csv(edition.edition_dir("cpu") / "verdicts.csv")
    tables = edition.edition_dir("cpu") / "results"
    boxed = []
    for path, run in committed_runs():
        if run.notebook not in numbers.NUMBERS or not numbers.main_numbers(run, numbers.folder_tables(tables)):
            continue
        page = nbformat.read(path, as_version=4)
        edition.shown(page, kept, run, verdicts, local=False)
        assert present.FINDINGS_MARK in page.cells[1].source, run
        boxed.append(run.notebook)
    summary = pd.read_csv(tables / "datasets_table1.csv")
    loaded = (summary["source"] != "not available").sum()
    assert {"datasets", "suppression", "ground_truth", "sanity"} <= set(boxed)
    page = nbformat.read(edition.edition_dir("cpu") / "pages" / "datasets.ipynb", as_version=4)
    edition.shown(page, kept, plan.Run("datasets"), verdicts, local=False)
    assert f"**{loaded} of the paper's {len(summary)} data sets**" in page.cells[1].source
