"""The project's plumbing: profiles, the artifact cache, result tables and the book runner."""

import pandas as pd
import pytest
import torch

from tsinsight import artifacts, data, results
from tsinsight.profiles import PROFILES, default_profile_name, get_profile
from tsinsight.runner import parameters, plan


def test_profiles_are_complete_and_ordered():
    assert set(PROFILES) == {"smoke", "cpu", "paper"}
    smoke, cpu, paper = (get_profile(name) for name in ("smoke", "cpu", "paper"))
    assert smoke.max_epochs < cpu.max_epochs < paper.max_epochs == 50
    assert paper.runs == 5 and paper.max_train is None
    assert default_profile_name() == ("paper" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown profile 'fast'.*smoke"):
        get_profile("fast")


def test_cached_computes_once_and_keys_on_every_part(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"w": torch.arange(3.0)}

    first = artifacts.cached("thing", {"seed": 0}, compute, root=tmp_path)
    again = artifacts.cached("thing", {"seed": 0}, compute, root=tmp_path)
    other = artifacts.cached("thing", {"seed": 1}, compute, root=tmp_path)
    assert len(calls) == 2
    assert torch.equal(first["w"], again["w"]) and torch.equal(first["w"], other["w"])
    assert sorted(p.suffix for p in (tmp_path / "thing").iterdir()) == [".json", ".json", ".pt", ".pt"]


def test_corrupted_artifact_is_recomputed(tmp_path):
    artifacts.cached("thing", {"seed": 0}, lambda: 1, root=tmp_path)
    path = tmp_path / "thing" / f"{artifacts.artifact_key({'seed': 0})}.pt"
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="unreadable"):
        assert artifacts.cached("thing", {"seed": 0}, lambda: 2, root=tmp_path) == 2
    assert artifacts.cached("thing", {"seed": 0}, lambda: 3, root=tmp_path) == 2


def test_interrupted_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "a.bin"

    def explode(handle):
        handle.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        artifacts.atomic_write_bytes(target, explode)
    assert list(tmp_path.iterdir()) == []


def test_result_tables_round_trip_and_name_what_is_missing():
    frame = pd.DataFrame({"method": ["a", "b"], "accuracy": [0.5, 0.75]})
    results.save("accuracy_demo", frame, "smoke")
    pd.testing.assert_frame_equal(results.load("accuracy_demo", "smoke"), frame)
    assert list(results.load_all("accuracy_", "smoke")["table"]) == ["accuracy_demo", "accuracy_demo"]
    with pytest.raises(FileNotFoundError, match="make book PROFILE=smoke"):
        results.load("nothing_here", "smoke")
    with pytest.raises(ValueError, match="plain file name"):
        results.save("../escape", frame, "smoke")


def test_parse_assignments_reads_literals_and_rejects_garbage():
    assert parameters.parse_assignments(["beta=0.001", "dataset=ford_a", "levels=[0.1, 0.5]"]) == {
        "beta": 0.001,
        "dataset": "ford_a",
        "levels": [0.1, 0.5],
    }
    with pytest.raises(ValueError, match="key=value"):
        parameters.parse_assignments(["beta"])


def test_book_runs_cover_every_notebook_once_per_dataset():
    runs = plan.book_runs(["synthetic_anomaly", "ford_a"])
    names = [run.notebook for run in runs]
    assert names[0] == "quickstart" and names[-3:] == ["glance", "reproduction", "rerunning"]
    assert names.count("train") == 2
    assert "fgsm" not in names, "a page for a data set that is not there"
    every = plan.book_runs(data.available())
    optional = {path.stem for path in plan.NOTEBOOKS.glob("*.ipynb") if plan.declaration(path.stem).get("optional")}
    assert optional == {"your_model"}, "only a user's own model is left to make notebook"
    assert {path.stem for path in plan.NOTEBOOKS.glob("*.ipynb")} - optional == {run.notebook for run in every}
    outputs = [run.output for run in every]
    assert len(outputs) == len(set(outputs)), "two runs would write the same page"


def test_the_smoke_profile_runs_every_notebook_and_the_per_dataset_pages_on_its_three_data_sets():
    every = plan.book_runs(data.available())
    smoke = plan.book_runs(data.available(), profile="smoke")
    assert {run.notebook for run in smoke} == {run.notebook for run in every}, "a notebook no longer runs under smoke"
    chosen = set(get_profile("smoke").datasets)
    for notebook in ("train", "attributions", "suppression"):
        assert {run.parameters["dataset"] for run in smoke if run.notebook == notebook} == chosen
    figures = [run for run in every if plan.declaration(run.notebook).get("datasets") not in (None, "all")]
    assert figures and all(run in smoke for run in figures), "a figure's own page lost a data set"
    assert plan.book_runs(data.available(), profile="cpu") == every
