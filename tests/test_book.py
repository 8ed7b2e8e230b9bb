"""The book runner (issue 12): parameters checked before any kernel starts; a partial book builds."""

import shutil

import nbformat
import pytest

from tsinsight import book
from tsinsight.runner import execute, html, parameters, plan


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if a notebook would be executed."""

    def execute_notebook(*args, **kwargs):
        raise AssertionError("a kernel was started for parameters that should have been refused")

    monkeypatch.setattr(execute.papermill, "execute_notebook", execute_notebook)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["datasets", "datset=ford_a"], ["datasets.ipynb has no parameter 'datset'", 'profile = "smoke"']),
        (["train", "datset=ford_a"], ["did you mean 'dataset'?", '    dataset = "synthetic_anomaly"', "kind = "]),
        (
            ["train", "dataset=ford_b"],
            ["dataset=ford_b is not valid", "one of synthetic_anomaly", 'P="dataset=ford_a"'],
        ),
        (["train", "beta=-0.1"], ["beta=-0.1 is not valid", "a finite number >= 0, or None", 'P="beta=0.001"']),
        (["train", "gamma=abc"], ["gamma=abc is not valid"]),
        (["train", "profile=fast"], ["profile=fast is not valid", "one of cpu, paper, smoke"]),
        (["train", "runs=0", "kind=gru"], ["runs=0 is not valid", "kind=gru is not valid"]),
        (["quickstart", "seed=1.5"], ["seed=1.5 is not valid", "an integer >= 0"]),
        (["tradeoff", "betas=[-1]"], ["betas=[-1] is not valid", "non-empty list"]),
        (["train", "--profile", "fast"], ["unknown profile 'fast'"]),
    ],
)
def test_bad_parameters_fail_before_any_kernel_starts(no_kernel, capsys, argv, fragments):
    assert book.main(["run", *argv]) == 1
    error = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in error


def test_unknown_parameter_lists_close_matches_first():
    with pytest.raises(ValueError) as raised:
        parameters.check_parameters("train", {"bta": 0.1})
    listing = [line.split("=")[0].strip() for line in str(raised.value).splitlines()[1:]]
    assert listing[0] == "beta" and set(listing) == set(parameters.declared_parameters("train"))


def test_good_parameters_pass():
    parameters.check_parameters(
        "train", {"profile": "cpu", "dataset": "ford_a", "beta": 0.001, "gamma": 1, "runs": None}
    )
    parameters.check_parameters("tradeoff", {"betas": [0.0, 1e-3], "gammas": [1.0]})


def test_single_page_notebooks_keep_their_page_whatever_the_data_set():
    assert plan.Run("quickstart", {"dataset": "ford_a"}).output == plan.GENERATED / "quickstart.ipynb"
    assert parameters.with_default_dataset("quickstart", {}) == {}
    assert plan.Run("train", {"dataset": "ford_a"}).output == plan.GENERATED / "train" / "ford_a.ipynb"
    assert parameters.with_default_dataset("train", {}) == {"dataset": "synthetic_anomaly"}


def test_placeholders_stand_in_for_pages_not_executed(tmp_path, monkeypatch):
    shutil.copy(plan.BOOK / "_toc.yml", tmp_path / "_toc.yml")
    monkeypatch.setattr(plan, "BOOK", tmp_path)
    monkeypatch.setattr(plan, "GENERATED", tmp_path / "generated")
    pages = plan.toc_generated_pages()
    assert "generated/quickstart" in pages and all(page.startswith("generated/") for page in pages)
    (tmp_path / "generated").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "generated" / "table3.ipynb")  # an executed page
    missing = html.write_placeholders()
    assert missing == [page for page in pages if page != "generated/table3"]
    text = (tmp_path / "generated" / "quickstart.md").read_text()
    assert "# Quick start" in text and "not been built yet" in text and "make notebook NB=quickstart" in text
    assert not (tmp_path / "generated" / "table3.md").exists()
    # executing the page later removes its placeholder: one source per page
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "generated" / "quickstart.ipynb")
    assert "generated/quickstart" not in html.write_placeholders()
    assert not (tmp_path / "generated" / "quickstart.md").exists()


def test_every_notebook_parameter_declares_its_type():
    untyped = [
        f"{row.notebook}.{row.parameter}"
        for row in parameters.notebook_parameters().itertuples()
        if row.type in ("None", "Unknown type")
    ]
    assert untyped == []
