"""Issue 22, item 3: Table 3 at the paper's budget run outside the book (tools/paper_table3.py), committed with its
provenance under results/<profile>/, read back by the Table 3 and reproduction pages, and part of their stamps."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from toys import toy_dataset

from tsinsight import data, zoo
from tsinsight.profiles import PROFILES, get_profile
from tsinsight.runner import edition, plan, stamps

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("paper_table3", ROOT / "tools" / "paper_table3.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

TINY = dataclasses.replace(get_profile("smoke"), name="tiny", runs=2, max_train=96, max_val=32, max_test=40)


@pytest.fixture
def toy_mirror(monkeypatch):
    """Two toy data sets standing in for the mirror's, and a ``tiny`` profile the tool can name."""
    monkeypatch.setattr(zoo, "load", lambda name, seed: toy_dataset(160, 48, 64, name=name, seed=seed))
    monkeypatch.setattr(data, "is_available", lambda name: name in {"synthetic_anomaly", "ecg_thorax"})
    monkeypatch.setitem(PROFILES, "tiny", TINY)
    zoo._dataset.cache_clear()
    yield
    zoo._dataset.cache_clear()


def run_tool(monkeypatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["paper_table3.py", *args])
    return tool.main()


def test_the_tool_writes_table_3_with_its_provenance_and_a_rerun_refits_nothing(toy_mirror, monkeypatch, tmp_path):
    out = tmp_path / "tiny"
    assert run_tool(monkeypatch, "--profile", "tiny", "--out", str(out), "synthetic_anomaly") == 0
    rows = pd.read_csv(out / "table3_runs.csv")
    assert sorted(set(zip(rows.model, rows.run, strict=True))) == [("classifier", 0), ("classifier", 1), ("tsinsight", 0),
                                                      ("tsinsight", 1)]  # fmt: skip
    kept = json.loads((out / "provenance.json").read_text())
    assert kept["machine"]["device"] == "cpu" and kept["machine"]["cores"] >= 1
    assert kept["profile"]["name"] == "tiny" and set(kept["datasets"]) == {"synthetic_anomaly"}
    assert len(kept["commit"]) == 40 and kept["datasets"]["synthetic_anomaly"]["runs"] == 2
    assert kept["datasets"]["synthetic_anomaly"]["models_trained"] == 6  # 2 classifiers, 2 auto-encoders, 2 explainers
    assert 0 < kept["datasets"]["synthetic_anomaly"]["fit_seconds"]
    assert pd.read_csv(out / "table3.csv").loc[0, "classifier_paper"] == 98.01

    models = sorted(zoo.artifacts.artifacts_dir().rglob("*.pt"))
    assert run_tool(monkeypatch, "--profile", "tiny", "--out", str(out), "ecg_thorax") == 0
    again = pd.read_csv(out / "table3_runs.csv")
    assert list(dict.fromkeys(again.dataset)) == ["synthetic_anomaly", "ecg_thorax"]  # the first data set is kept
    pd.testing.assert_frame_equal(again[again.dataset == "synthetic_anomaly"], rows)
    assert set(json.loads((out / "provenance.json").read_text())["datasets"]) == {"synthetic_anomaly", "ecg_thorax"}
    assert run_tool(monkeypatch, "--profile", "tiny", "--out", str(out), "synthetic_anomaly") == 0
    assert len(sorted(zoo.artifacts.artifacts_dir().rglob("*.pt"))) == len(models) + 6  # ecg's; nothing refitted
    assert len(pd.read_csv(out / "table3_runs.csv")) == 8
    rerun = json.loads((out / "provenance.json").read_text())["datasets"]["synthetic_anomaly"]
    assert rerun["models_trained"] == 0 and rerun["fit_seconds"] == kept["datasets"]["synthetic_anomaly"]["fit_seconds"]


def test_the_tool_refuses_a_data_set_this_machine_lacks(toy_mirror, monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match=r"no data for \['wesad'\].*TSINSIGHT_DATA_MIRROR"):
        run_tool(monkeypatch, "--profile", "tiny", "--out", str(tmp_path), "wesad")


def test_the_tool_refuses_to_mix_profiles_in_one_folder(toy_mirror, monkeypatch, tmp_path):
    (tmp_path / "table3_runs.csv").write_text("dataset,profile\nford_a,paper\n")
    with pytest.raises(SystemExit, match=r"holds runs of profile \['paper'\], not 'tiny': use --out"):
        run_tool(monkeypatch, "--profile", "tiny", "--out", str(tmp_path), "synthetic_anomaly")


def test_committed_table3_judges_the_run_by_its_own_profile(toy_mirror, monkeypatch, tmp_path):
    assert edition.committed_table3("tiny", tmp_path / "nothing") is None
    run_tool(monkeypatch, "--profile", "tiny", "--out", str(tmp_path), "synthetic_anomaly")
    committed = edition.committed_table3("tiny", tmp_path)
    assert committed["profile"] == "tiny" and list(committed["table"].dataset) == ["synthetic_anomaly"]
    assert committed["missing"] == ["ecg_thorax"]  # on this machine, not run yet
    assert "profile `tiny` cuts the paper's training budget" in committed["claims"][0].why
    assert committed["provenance"].index.tolist() == ["synthetic_anomaly"]


def test_pages_that_read_results_are_stamped_with_the_committed_tables(monkeypatch, tmp_path):
    monkeypatch.setattr(plan, "COMMITTED", tmp_path)
    reading = next(run for run in plan.book_runs(profile="smoke") if run.notebook == "table3")
    before = stamps.run_inputs(reading, "smoke")
    assert "committed" not in before  # nothing committed: the stamp is what it was
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "table3_runs.csv").write_text("dataset\nford_a\n")
    first = stamps.run_inputs(reading, "smoke")["committed"]
    (tmp_path / "paper" / "table3_runs.csv").write_text("dataset\nford_a\necg_thorax\n")
    assert stamps.run_inputs(reading, "smoke")["committed"] != first
