"""Tests of what the runner writes into executed pages, and of the reader-facing helpers of tsinsight.report."""

import math

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tsinsight.report import (
    capped_counts,
    committed_run_text,
    format_runs,
    mean_ci,
    public_source,
    reader_table,
    setting_ranks,
    table3_reader_table,
)
from tsinsight.runner import execute as pages
from tsinsight.runner.plan import Run

HEADER = (
    ":::{admonition} How this page was produced\n:class: note\n- **Profile:** `cpu` — two runs\n"
    "- **Executed:** 2026-12-04 10:26 UTC on CPU AMD EPYC, commit `8d43963ec000`\n:::\n"
)


def notebook(pattern: str | None = "{label} — training") -> nbformat.NotebookNode:
    header = new_code_cell("from tsinsight.report import page_header\n\npage_header(profile)")
    header.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": HEADER})]
    plot = new_code_cell("plot()")
    plot.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})]
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Training a classifier\n\nIntro."),
            new_code_cell('profile = "smoke"', metadata={"tags": ["parameters"]}),
            new_code_cell('profile = "cpu"', metadata={"tags": ["injected-parameters"]}),
            header,
            plot,
        ]
    )
    if pattern:
        nb.metadata["tsinsight"] = {"title": pattern}
    return nb


def test_finish_titles_the_page_and_folds_its_provenance_into_one_dropdown():
    page = notebook()
    run = Run("train", {"dataset": "ford_a", "beta": 0.001, "betas": [0.0, 0.1]})
    pages.finish(page, run, "cpu", 12.3, {"profile": "cpu"})
    cells = page.cells
    assert cells[0].source == "# FordA — training\n\nIntro."
    # the train page judges claims: its findings box first (no result table here: "not run"), then the provenance
    assert "What this page found" in cells[1].source
    folded = cells[2].source
    assert (
        folded.count("{dropdown}") == 1 and sum("How this page was produced" in c.get("source", "") for c in cells) == 0
    )
    assert "Profile `cpu` · executed on this machine at commit `8d43963ec000` · 2026-12-04" in folded.splitlines()[1]
    assert "- **Profile:** `cpu` — two runs" in folded, "the notebook's provenance box moves into the dropdown"
    assert "executed by `make book` in 12 s." in folded and "clean build" not in folded
    assert 'make notebook NB=train P="dataset=ford_a beta=0.001 betas=[0.0,0.1]" PROFILE=cpu\n' in folded
    assert "{download}`notebooks/train.ipynb </../notebooks/train.ipynb>`" in folded
    assert cells[3].metadata.tags == ["parameters", "remove-cell"]
    assert cells[4].metadata.tags == ["injected-parameters", "remove-cell"], "the re-run line names the parameters"
    assert cells[5].metadata.tags == ["remove-cell"] and cells[5].outputs == [], "the header cell is plumbing"
    assert cells[6].metadata.tags == ["hide-input"]
    assert page.metadata["tsinsight"]["seconds"] == 12.3 and "title" not in page.metadata["tsinsight"], (
        "the stamp replaces the title pattern"
    )


def test_a_page_of_a_build_that_began_with_cached_artifacts_says_its_time_is_not_a_clean_builds():
    page = notebook()
    pages.finish(page, Run("train", {"dataset": "ford_a"}), "cpu", 70.4, {"profile": "cpu"}, cached_at_start=681)
    assert "began with 681 artifacts" in page.cells[2].source and "not a clean build's time" in page.cells[2].source
    assert page.metadata["tsinsight"]["cached_at_start"] == 681


def test_finish_keeps_the_title_without_a_pattern_and_names_a_missing_parameter():
    page = notebook(pattern=None)
    pages.finish(page, Run("glance"), "smoke", 1.0, {})
    assert page.cells[0].source.startswith("# Training a classifier")
    assert "make notebook NB=glance PROFILE=smoke\n" in page.cells[2].source
    with pytest.raises(ValueError, match="'seed'"):
        pages.page_title(notebook("{label} — seed {seed}"), {"dataset": "ford_a"})


def test_mean_ci_is_the_student_t_interval():
    mean, half, n = mean_ci([90.0, 92.0, float("nan"), 94.0])
    assert (mean, n) == (92.0, 3)
    assert half == pytest.approx(4.303 * 2.0 / math.sqrt(3), rel=1e-3)  # t(0.975, 2) = 4.303, s = 2
    assert format_runs([90.0, 92.0, 94.0]) == "92.0 ± 5.0 (n = 3)"


def test_fewer_than_three_runs_show_the_runs_not_an_interval():
    assert format_runs([86.31, 82.79]) == "84.6 (82.8, 86.3)", "a t-interval over two runs (t = 12.7) says nothing"
    assert format_runs([98.52, float("nan"), 99.18], digits=2, unit=" %") == "98.85 % (98.52, 99.18)"
    assert format_runs([0.9]) == "0.9 (one run)" and format_runs([]) == "–" and format_runs([float("nan")]) == "–"
    assert format_runs([1.0, 2.0, 3.0, 4.0], unit=" %") == "2.5 ± 2.1 % (n = 4)"


def test_public_source_drops_the_local_folder_only():
    assert public_source("UCR archive FordA (/work/shared/data/ucr)") == "UCR archive FordA"
    assert public_source("generated by tsinsight.data.synthetic (v2, seed 0)") == (
        "generated by tsinsight.data.synthetic (v2, seed 0)"
    )


def test_committed_run_text_names_each_sitting_and_which_data_sets_resumed_from_cached_models():
    machine = pd.Series(dict(gpu=None, cpu="AMD EPYC", cores=2, torch_threads=2, torch="2.13.0+cpu"))
    provenance = pd.DataFrame(
        dict(seconds=[60.0, 120.0], runs=[5, 5], commit=["a" * 40, "b" * 40], models_trained=[float("nan"), 5.0]),
        index=pd.Index(["ford_a", "forest_cover"], name="dataset"),
    )
    text = committed_run_text(provenance, machine)
    assert "at commits `aaaaaaaaaaaa` and `bbbbbbbbbbbb` on AMD EPYC CPU, 2 cores" in text
    assert "FordA 1.0 min, Forest Cover 2.0 min (resumed: 5 of its 15 models trained in that sitting))" in text
    one_sitting = committed_run_text(provenance.assign(commit="a" * 40, models_trained=15.0), machine)
    assert "at commit `aaaaaaaaaaaa` on" in one_sitting and "resumed" not in one_sitting
    assert "0.1 h of wall time" in one_sitting


def test_capped_counts_per_model():
    rows = pd.DataFrame(dict(model=["classifier"] * 3 + ["tsinsight"] * 2, capped=[True, True, False, False, True]))
    assert capped_counts(rows) == "Classifier 2 of 3, TSInsight 1 of 2"


def test_table3_reader_table_shows_the_weights_as_they_are_and_ours_with_its_interval():
    from tsinsight.experiments import compare_table3

    rows = pd.DataFrame(
        dict(dataset="ford_a", run=[0, 1, 0, 1], model=["classifier"] * 2 + ["tsinsight"] * 2,
             accuracy=[0.90, 0.92, 0.91, 0.93], gamma=[None, None, 2.0, 2.0], beta=[None, None, 1e-4, 1e-4],
             profile="paper", source="UCR", substitute=False)
    )  # fmt: skip
    shown = table3_reader_table(rows, compare_table3(rows)).iloc[0]
    assert (shown["γ"], shown["β"]) == ("2", "0.0001")  # not 0.00 at the table's two digits
    assert shown["classifier: ours"] == "91.00 (90.00, 92.00)" == format_runs([90.0, 92.0], digits=2)
    assert shown["TSInsight: diff"] == pytest.approx(92.0 - 93.26)


def test_reader_table_hides_only_a_default_index():
    assert "row_heading" not in reader_table(pd.DataFrame({"a": [1.0]})).to_html()
    assert "row_heading" in reader_table(pd.DataFrame({"a": [1.0]}, index=["x"])).to_html()


def test_setting_ranks_put_each_filler_order_in_a_column_and_the_methods_in_the_first_settings_order():
    ranking = pd.DataFrame(
        {
            "method": ["tsinsight", "gradient", "tsinsight", "gradient"],
            "filler": ["zero", "zero", "mean", "mean"],
            "order": ["lerf", "lerf", "morf", "morf"],
            "mean_rank": [2.0, 1.0, 1.25, 1.75],
            "rank_low": [1.5, 1.0, 1.0, 1.5],
            "rank_high": [2.0, 1.5, 1.5, 2.0],
        }
    )
    shown, methods = setting_ranks(ranking)
    assert methods == ["gradient", "tsinsight"]  # the first setting (zero/lerf) orders the rows
    assert list(shown.columns) == ["zero/lerf", "mean/morf"]
    assert list(shown.index) == ["Gradient", "TSInsight"]
    assert (
        shown.loc["TSInsight", "mean/morf"] == "1.2 [1.0–1.5]" and shown.loc["Gradient", "zero/lerf"] == "1.0 [1.0–1.5]"
    )


def test_rank_bars_draw_one_bar_per_method_best_on_top():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tsinsight.plotting import rank_bars

    ranking = pd.DataFrame(
        {"method": ["occlusion", "random"], "mean_rank": [1.5, 4.0], "rank_low": [1, 3], "rank_high": [2, 5]}
    )
    fig, ax = plt.subplots()
    rank_bars(ranking, ax, xlabel="mean rank", title="t")
    assert [bar.get_width() for bar in ax.patches] == [1.5, 4.0]
    assert ax.yaxis_inverted() and [t.get_text() for t in ax.get_yticklabels()] == ["Occlusion", "Random"]
    plt.close(fig)
