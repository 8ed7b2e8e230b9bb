"""Issue 22: the GPU machine's tooling (tools/device.py); `make smoke-book` runs tools/device_run.sh end to end."""

import importlib.util
import io
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("device", ROOT / "tools" / "device.py")
device = importlib.util.module_from_spec(spec)
spec.loader.exec_module(device)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setattr(device, "ROOT", tmp_path)
    monkeypatch.setattr(device, "_results_dir", lambda profile: tmp_path / "artifacts" / "results" / profile)
    (tmp_path / "book" / "generated" / "train").mkdir(parents=True)
    (tmp_path / "artifacts" / "results" / "paper").mkdir(parents=True)
    return tmp_path


def test_the_wheels_are_what_the_gpu_machine_lacks():
    wheels = device.closure()
    assert {"captum", "papermill", "ipykernel", "nbformat", "dask"} <= set(wheels)
    assert not set(wheels) & (device.ON_DEVICE | device.LEFT_OUT)  # torch, numpy …: the machine's own


def test_pages_and_tables_come_back_in_parts_and_go_into_place(tree, monkeypatch):
    page = tree / "book" / "generated" / "train" / "ford_a.ipynb"
    page.write_bytes(b"x" * 3000)
    (tree / "artifacts" / "results" / "paper" / "accuracy_ford_a.csv").write_text("a,b\n1,2\n")
    monkeypatch.setattr(device, "PART", 100)  # several parts
    parts = device.pack("paper", tree / "out")
    assert len(parts) > 1 and all(part.stat().st_size <= 100 for part in parts)
    page.unlink()
    (tree / "artifacts" / "results" / "paper" / "accuracy_ford_a.csv").unlink()
    assert device.unpack(tree / "out") == "paper"
    assert page.read_bytes() == b"x" * 3000
    assert (tree / "artifacts" / "results" / "paper" / "accuracy_ford_a.csv").read_text() == "a,b\n1,2\n"


def test_unpack_refuses_nothing_to_unpack_and_paths_outside(tree):
    with pytest.raises(SystemExit, match="no packed book"):
        device.unpack(tree / "empty")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("generated/../../escaped.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    (tree / "out").mkdir()
    (tree / "out" / "paper-book.tar.gz.000").write_bytes(buffer.getvalue())
    with pytest.raises(tarfile.OutsideDestinationError):
        device.unpack(tree / "out")
    assert not list(tree.parent.glob("escaped.txt")) and not (tree / "escaped.txt").exists()


def test_the_gpu_machine_leaves_out_the_pages_that_wait_for_a_left_out_one():
    from tsinsight.runner import plan

    runs = plan.book_runs()
    kept = plan.without(runs, list(device.NEEDS_LEFT_OUT))
    gone = {run.notebook for run in runs if run not in kept}
    # glance and reproduction read the tables of the two pages the GPU machine cannot draw
    assert gone == {"suppression_summary", "later_explainers", "glance", "reproduction"}
    assert [run for run in runs if run in kept] == kept  # the order stays
    with pytest.raises(ValueError, match="no notebook of the book is called nope"):
        plan.without(runs, ["nope"])
