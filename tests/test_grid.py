"""The book's grid (issue 14): incremental builds, Dask execution in dependency order, a shared artifact cache.

The grids here are tiny notebooks written into ``tmp_path`` under the real notebooks' names (so that the real
rules of :func:`tsinsight.plan.needs` apply); they write their result tables with the standard library only,
which keeps a kernel's start-up short.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import nbformat
import pytest
from distributed import Client, WorkerPlugin

from tsinsight.runner import execute, grid, plan, stamps

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the worker plugin below travels to the workers

TRAIN = """
import os, pathlib
root = pathlib.Path(os.environ["TSINSIGHT_ARTIFACTS"])
if (root / "kill-once").exists():  # the test of a dying worker: kill the worker executing this, once
    (root / "kill-once").unlink()
    os.kill(os.getppid(), 9)
(root / "models").mkdir(parents=True, exist_ok=True)
(root / "models" / f"{dataset}.txt").write_text(str(len(dataset)))
results = root / "results" / profile
results.mkdir(parents=True, exist_ok=True)
(results / f"accuracy_{dataset}.csv").write_text(f"dataset,accuracy\\n{dataset},{len(dataset) / 100}\\n")
"""
ATTRIBUTIONS = """
import os, pathlib
root = pathlib.Path(os.environ["TSINSIGHT_ARTIFACTS"])
model = (root / "models" / f"{dataset}.txt").read_text()  # fails unless train ran first
(root / "results" / profile / f"attributions_{dataset}.csv").write_text(f"dataset,model\\n{dataset},{model}\\n")
"""
TABLE3 = """
import os, pathlib
results = pathlib.Path(os.environ["TSINSIGHT_ARTIFACTS"]) / "results" / profile
rows = [path.read_text().splitlines()[1] for path in sorted(results.glob("accuracy_*.csv"))]
(results / "table3.csv").write_text("dataset,accuracy\\n" + "\\n".join(rows) + f"\\n# {len(rows)} tables\\n")
"""
RUNS = [
    plan.Run("train", {"dataset": "ford_a"}),
    plan.Run("train", {"dataset": "ecg_thorax"}),
    plan.Run("table3"),
    plan.Run("attributions", {"dataset": "ford_a"}),
    plan.Run("attributions", {"dataset": "ecg_thorax"}),
]


def _write_notebook(path: Path, parameters: str, source: str, declaration: dict) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["tsinsight"] = declaration
    notebook.cells = [
        nbformat.v4.new_markdown_cell(f"# {path.stem}"),
        nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(source),
    ]
    nbformat.write(notebook, path)


class _TinyBook(WorkerPlugin):
    """Points ``tsinsight.book`` at the tiny book on every worker, also on one started after another died."""

    def __init__(self, notebooks: Path, book: Path, generated: Path):
        self.paths = notebooks, book, generated

    def setup(self, worker):
        from tsinsight.runner import plan

        plan.NOTEBOOKS, plan.BOOK, plan.GENERATED = self.paths


@contextlib.contextmanager
def _tiny_cluster():
    """A 2-worker local cluster (the runner's own) whose workers execute the tiny book; yields its address."""
    with grid.local_cluster(2) as cluster, Client(cluster) as client:
        client.register_plugin(_TinyBook(plan.NOTEBOOKS, plan.BOOK, plan.GENERATED))
        yield cluster.scheduler_address


@pytest.fixture
def tiny_book(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    train = {"datasets": "all", "writes": ["accuracy_{dataset}"]}
    _write_notebook(notebooks / "train.ipynb", 'profile = "smoke"\ndataset = "ford_a"', TRAIN, train)
    attributions = {"datasets": "all", "writes": ["attributions_{dataset}"]}
    _write_notebook(
        notebooks / "attributions.ipynb", 'profile = "smoke"\ndataset = "ford_a"', ATTRIBUTIONS, attributions
    )
    _write_notebook(notebooks / "table3.ipynb", 'profile = "smoke"', TABLE3, {"reads": ["accuracy_"]})
    monkeypatch.setattr(plan, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(plan, "BOOK", tmp_path / "book")
    monkeypatch.setattr(plan, "GENERATED", tmp_path / "book" / "generated")
    return tmp_path


def _use_artifacts(monkeypatch, folder: Path) -> Path:
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(folder))  # before a cluster starts: its workers inherit it
    return folder


def _tables(artifacts: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((artifacts / "results" / "smoke").glob("*.csv"))}


def test_needs_follow_the_rules_and_the_book_order():
    runs = plan.book_runs(plan.data.available())
    by_name = {str(run): run for run in runs}
    for run in runs:
        assert all(runs.index(other) < runs.index(run) for other in plan.needs(run, runs))
    assert plan.needs(by_name["attributions.ipynb dataset=ford_a"], runs) == [by_name["train.ipynb dataset=ford_a"]]
    assert {other.notebook for other in plan.needs(by_name["table3.ipynb"], runs)} == {"train"}
    assert {other.notebook for other in plan.needs(by_name["suppression_summary.ipynb"], runs)} == {"suppression"}
    writers = [run for run in runs if run.writes and run.notebook not in ("reproduction", "glance")]
    assert plan.needs(by_name["reproduction.ipynb"], runs) == writers  # it judges every table
    assert plan.needs(by_name["train.ipynb dataset=ford_a"], runs) == []
    assert runs.index(by_name["glance.ipynb"]) > runs.index(by_name["robustness.ipynb"]), "read before written"


def test_unchanged_second_build_executes_nothing(tiny_book, capsys):
    assert len(execute.execute_all(RUNS, "smoke")) == 5
    assert execute.execute_all(RUNS, "smoke") == []
    assert capsys.readouterr().out.count(": up to date") == 5
    # a changed notebook re-executes its runs and says why; the table it writes is unchanged, so table3 is not
    train = plan.NOTEBOOKS / "train.ipynb"
    train.write_text(train.read_text().replace("# train", "# Training"))
    assert [str(run) for run, _ in execute.execute_all(RUNS, "smoke")] == [str(RUNS[0]), str(RUNS[1])]
    assert "notebook changed, executing" in capsys.readouterr().out
    assert [str(run) for run, _ in execute.execute_all(RUNS, "smoke", force=True)] == [str(run) for run in RUNS]
    # a page of another profile never stays in the book
    stamps.remove_foreign_pages(RUNS, "cpu")
    assert not list(plan.GENERATED.rglob("*.ipynb"))


def test_two_workers_give_the_serial_tables_and_a_rebuild_executes_nothing(tiny_book, monkeypatch):
    serial = _use_artifacts(monkeypatch, tiny_book / "serial")
    execute.execute_all(RUNS, "smoke")
    parallel = _use_artifacts(monkeypatch, tiny_book / "parallel")
    monkeypatch.setattr(plan, "GENERATED", tiny_book / "book" / "parallel")
    with _tiny_cluster() as scheduler:
        assert len(grid.execute_all(RUNS, "smoke", scheduler=scheduler)) == 5
        assert grid.execute_all(RUNS, "smoke", scheduler=scheduler) == []
    assert _tables(parallel) == _tables(serial)
    assert "ecg_thorax" in _tables(parallel)["table3.csv"] and "# 2 tables" in _tables(parallel)["table3.csv"]


def test_a_killed_worker_run_is_retried(tiny_book, monkeypatch):
    artifacts = _use_artifacts(monkeypatch, tiny_book / "artifacts")
    artifacts.mkdir()
    (artifacts / "kill-once").touch()
    with _tiny_cluster() as scheduler:
        executed = grid.execute_all(RUNS[:1], "smoke", scheduler=scheduler)
    assert [str(run) for run, _ in executed] == [str(RUNS[0])]
    assert not (artifacts / "kill-once").exists() and (plan.GENERATED / "train" / "ford_a.ipynb").exists()


FIT = """
import sys, time
from pathlib import Path
from tsinsight import artifacts
log, root, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
(root / f"ready-{name}").touch()
while len(list(root.glob("ready-*"))) < int(sys.argv[4]):  # start asking together
    time.sleep(0.01)

def fit():
    with open(log, "a") as handle:
        handle.write(f"fit by {name}\\n")
    time.sleep(float(sys.argv[5]))
    return {"w": 1.0}

print(artifacts.cached("model", {"seed": 0}, fit, root=root / "artifacts"))
"""


def _ask(tmp_path: Path, name: str, together: int, seconds: float) -> subprocess.Popen:
    command = [sys.executable, "-c", FIT, str(tmp_path / "fits"), str(tmp_path), name, str(together), str(seconds)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def test_two_processes_asking_for_one_model_train_it_once(tmp_path):
    processes = [_ask(tmp_path, name, 2, 1.0) for name in "ab"]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert outputs == ["{'w': 1.0}\n"] * 2
    assert len((tmp_path / "fits").read_text().splitlines()) == 1


def test_a_fit_killed_midway_leaves_nothing_and_holds_no_lock(tmp_path):
    dying = _ask(tmp_path, "a", 1, 600.0)
    while not (tmp_path / "fits").exists():
        time.sleep(0.05)
    os.kill(dying.pid, signal.SIGKILL)
    dying.wait()
    assert not list((tmp_path / "artifacts").glob("model/*"))  # no half-written artifact
    survivor = _ask(tmp_path, "b", 1, 0.0)
    assert survivor.communicate(timeout=120)[0] == "{'w': 1.0}\n"
    assert (tmp_path / "fits").read_text().splitlines() == ["fit by a", "fit by b"]


@pytest.mark.parametrize("gpus", [0, 2])
def test_local_workers_are_single_threaded_and_pinned_one_gpu_each(monkeypatch, gpus):
    monkeypatch.setattr(grid.torch.cuda, "device_count", lambda: gpus)
    with grid.local_cluster(2) as cluster, Client(cluster) as client:
        assert set(client.nthreads().values()) == {1}
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) == 1
        pinned = client.run(lambda: os.environ.get("CUDA_VISIBLE_DEVICES", "all"))
    assert sorted(pinned.values()) == (["0", "1"] if gpus else [os.environ.get("CUDA_VISIBLE_DEVICES", "all")] * 2)
