"""Issue 20: the reference edition is written only from a whole build, and rendered with its provenance."""

import json

import nbformat
import pytest

from tsinsight.runner import edition, execute, plan, present, stamps

TOC = "format: jb-book\nroot: intro\nchapters:\n  - file: generated/alpha\n  - file: generated/beta\n"


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    notebooks, book = tmp_path / "notebooks", tmp_path / "book"
    notebooks.mkdir()
    book.mkdir()
    (book / "_toc.yml").write_text(TOC)
    for name in ("alpha", "beta"):
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        notebook.metadata["tsinsight"] = {"writes": [f"{name}_table"], "claims": {"Fig. 5": f"{name}_table"}}
        notebook.cells = [
            nbformat.v4.new_markdown_cell(f"# {name}"),
            nbformat.v4.new_code_cell('profile = "smoke"', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("print('hello')"),
        ]
        nbformat.write(notebook, notebooks / f"{name}.ipynb")
    monkeypatch.setattr(plan, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(plan, "BOOK", book)
    monkeypatch.setattr(plan, "GENERATED", book / "generated")
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setattr(plan, "book_datasets", lambda: [])
    # the pages are executed by the working tree's code, which may differ from HEAD while developing
    monkeypatch.setattr(edition, "_code_stamp_at", lambda commit: stamps.run_inputs(plan.Run("alpha"), "smoke")["code"])
    return book


def test_a_partial_build_is_refused_then_a_whole_one_is_kept_and_rendered(tiny):
    execute.execute(plan.Run("alpha"), "smoke")
    with pytest.raises(ValueError, match="partial edition: 1 run"):
        edition.write("smoke")
    execute.execute(plan.Run("beta"), "smoke")
    target = edition.write("smoke")
    provenance = json.loads((target / "provenance.json").read_text())
    assert provenance["profile"] == "smoke" and set(provenance["pages"]) == {"alpha.ipynb", "beta.ipynb"}
    assert all(seconds > 0 for seconds in provenance["pages"].values())
    assert provenance["cached_at_start"] == 0, "this build began with an empty artifacts directory"
    assert (target / "pages" / "alpha.ipynb").exists() and (target / "verdicts.csv").exists()
    rows = json.loads((target / "verdicts.json").read_text())  # one row per claim: "not run" here, no table
    assert [row["verdict"] for row in rows] == ["not comparable"] * 2 and rows[0]["profile"] == "smoke"
    # a fresh clone: no executed page; rendering fills the book from the edition, with its banner
    for page in (tiny / "generated").glob("*.ipynb"):
        page.unlink()
    assert sorted(edition.render("smoke")) == ["alpha.ipynb", "beta.ipynb"]
    rendered = nbformat.read(tiny / "generated" / "alpha.ipynb", as_version=4)
    text = next(cell.source for cell in rendered.cells if present.PROVENANCE_MARK in cell.source)
    assert f"reference edition of commit `{provenance['commit'][:12]}`" in text and "verdicts.csv" in text
    assert "alpha_table.csv" not in text, "a table the edition does not hold is not linked (the build would fail)"
    assert "clean build" not in text and text.count("{dropdown}") == 1
    assert "What this page found" in rendered.cells[1].source, "its findings from the edition's verdict table"
    summary, lines = edition.banner(provenance | {"cached_at_start": 5}, plan.Run("alpha"), local=False)
    assert "began with 5 artifacts" in lines[0]
    # a page executed locally replaces the reference page, and says so; rendering again keeps one banner
    execute.execute(plan.Run("alpha"), "smoke")
    assert edition.render("smoke") == ["beta.ipynb"]
    edition.render("smoke")
    cells = nbformat.read(tiny / "generated" / "alpha.ipynb", as_version=4).cells
    folded = [cell.source for cell in cells if present.PROVENANCE_MARK in cell.source]
    assert len(folded) == 1 and "executed on this machine, not taken from the reference edition" in folded[0]


def test_a_mixed_build_is_refused(tiny, monkeypatch):
    execute.execute(plan.Run("alpha"), "smoke")
    execute.execute(plan.Run("beta"), "smoke")
    monkeypatch.setattr(edition, "_code_stamp_at", lambda commit: "another-version")
    with pytest.raises(ValueError, match="not executed by the code of"):
        edition.write("smoke")


def test_the_banner_names_what_changed_since_the_edition():
    now = edition.source_hashes()
    then = dict(now, **{"tsinsight/claims.py": "0" * 16})
    then.pop("tsinsight/book.py")
    assert edition.changed_since({"sources": then}) == ["tsinsight/book.py", "tsinsight/claims.py"]


def test_a_local_page_says_whether_its_tables_agree_with_the_edition(tiny, monkeypatch):
    import pandas as pd

    from tsinsight.results import results_dir

    monkeypatch.setattr(edition, "verdict_table", lambda profile, commit: pd.DataFrame({"verdict": []}))
    monkeypatch.setattr(present, "page_findings", lambda *args: None)  # its toy table is no Fig. 5 table to judge

    execute.execute(plan.Run("alpha"), "smoke")
    execute.execute(plan.Run("beta"), "smoke")
    mine = results_dir("smoke")
    mine.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"model": ["a", "b"], "accuracy": [0.9, 0.8], "seconds": [1.0, 2.0]}).to_csv(
        mine / "alpha_table.csv", index=False
    )
    edition.write("smoke")
    assert edition.table_differences("smoke", ["alpha_table"]) == []
    # a re-run on another machine: other timings agree, another accuracy disagrees and is named
    pd.DataFrame({"model": ["a", "b"], "accuracy": [0.9, 0.7], "seconds": [5.0, 9.0]}).to_csv(
        mine / "alpha_table.csv", index=False
    )
    assert edition.table_differences("smoke", ["alpha_table"]) == ["`alpha_table` in accuracy (largest difference 0.1)"]
    assert edition.table_differences("smoke", ["beta_table"]) == ["`beta_table` was not written here"]
    execute.execute(plan.Run("alpha"), "smoke")
    edition.render("smoke")
    cells = nbformat.read(tiny / "generated" / "alpha.ipynb", as_version=4).cells
    banner = next(cell.source for cell in cells if present.PROVENANCE_MARK in cell.source)
    assert "**it disagrees with the reference edition**" in banner.splitlines()[1], "said on the visible line"
    assert "accuracy (largest difference 0.1)" in banner


def test_two_editions_are_set_side_by_side(tiny, monkeypatch):
    import pandas as pd

    assert edition.side_by_side(("smoke", "cpu")) is None  # no edition yet
    for profile, accuracy in (("smoke", 0.5), ("cpu", 0.9)):
        folder = edition.edition_dir(profile)
        (folder / "results").mkdir(parents=True)
        (folder / "provenance.json").write_text(
            json.dumps({"commit": "abcdef1234567890", "device": "CPU", "written": "today", "profile": profile})
        )
        pd.DataFrame({"verdict": ["reproduced", "not reproduced", "reproduced"]}).to_csv(
            folder / "verdicts.csv", index=False
        )
        rows = [
            dict(dataset="ford_a", run=0, model=model, accuracy=accuracy, gamma=1.0, beta=0.1, profile=profile,
                 source="x", substitute=False)
            for model in ("classifier", "tsinsight")
        ]  # fmt: skip
        pd.DataFrame(rows).to_csv(folder / "results" / "accuracy_ford_a.csv", index=False)
    both = edition.side_by_side(("smoke", "cpu"))
    assert both["counts"].loc["reproduced"].tolist() == [2, 2] and both["counts"].loc["claims"].tolist() == [3, 3]
    assert both["table3"].loc["FordA", ("classifier_ours", "cpu")] == 90.0
    assert both["table3"].loc["FordA", ("tsinsight_ours", "smoke")] == 50.0
    assert list(both["provenance"].columns) == ["smoke", "cpu"]


def test_a_module_changed_in_a_scratch_copy_is_named_on_every_banner(tmp_path, monkeypatch):
    import shutil

    edition_then = {"profile": "cpu", "commit": "0" * 40, "device": "CPU", "written": "today", "pages": {},
                    "sources": edition.source_hashes()}  # fmt: skip
    scratch = tmp_path / "tsinsight"
    shutil.copytree(plan.PACKAGE, scratch, ignore=shutil.ignore_patterns("__pycache__"))
    (scratch / "claims.py").write_text((scratch / "claims.py").read_text() + "\n# changed\n")
    monkeypatch.setattr(plan, "PACKAGE", scratch)
    summary, lines = edition.banner(edition_then, plan.Run("glance"), local=False)
    assert "Code changed since:** `tsinsight/claims.py`." in lines[-1] and "reference edition" in summary


def test_a_reader_without_the_data_gets_every_page_of_the_edition(tiny, monkeypatch):
    gamma = nbformat.v4.new_notebook()
    gamma.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    gamma.metadata["tsinsight"] = {"datasets": "all", "writes": []}
    gamma.cells = [
        nbformat.v4.new_markdown_cell("# gamma"),
        nbformat.v4.new_code_cell(
            'profile = "smoke"\ndataset = "synthetic_anomaly"', metadata={"tags": ["parameters"]}
        ),
        nbformat.v4.new_code_cell("print(dataset)"),
    ]
    nbformat.write(gamma, plan.NOTEBOOKS / "gamma.ipynb")
    (tiny / "_toc.yml").write_text(TOC + "  - glob: generated/gamma/*\n")
    monkeypatch.setattr(plan, "book_datasets", lambda: ["synthetic_anomaly"])  # the machine that built it had the data
    for run in plan.book_runs():
        execute.execute(run, "smoke")
    edition.write("smoke")
    for page in (tiny / "generated").rglob("*.ipynb"):
        page.unlink()
    monkeypatch.setattr(plan, "book_datasets", lambda: [])  # a reader with none of the data sets
    assert "gamma.ipynb dataset=synthetic_anomaly" in edition.render("smoke")
    assert (tiny / "generated" / "gamma" / "synthetic_anomaly.ipynb").exists()


def test_an_editions_figures_are_kept_apart_once_each_and_brought_back_byte_for_byte(tmp_path):
    import base64

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    encoded = base64.b64encode(png).decode("ascii")
    page = nbformat.v4.new_notebook()
    for _ in range(2):  # the same figure twice: one file
        cell = nbformat.v4.new_code_cell("plot()")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": encoded, "text/plain": "<Figure>"})]
        page.cells.append(cell)
    original = nbformat.writes(page)
    folder = tmp_path / "figures"
    edition.keep_figures_apart(page, folder)
    assert [path.read_bytes() for path in folder.iterdir()] == [png]
    assert all("image/png" not in output.data for cell in page.cells for output in cell.outputs)
    assert page.cells[0].outputs[0].metadata[edition.FIGURE_KEY] == {
        "image/png": f"{next(iter(folder.iterdir())).name}"
    }
    nbformat.validate(page)
    edition.bring_figures_back(page, folder)
    assert nbformat.writes(page) == original
