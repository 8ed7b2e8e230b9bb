"""Page kernels forked from a warm process (tsinsight.runner.forked): the kernel a page would get anew, faster."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill
import pytest
from jupyter_client.manager import start_new_kernel

from tsinsight import experiments
from tsinsight.runner import forked
from tsinsight.runner.execute import KERNEL_ARGUMENTS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")

# What a page computes and sees: torch, NumPy and SciPy arithmetic (their OpenBLAS threads, stopped by the fork,
# included), threads, the plotting backend, the folder, the environment, the warning filters once it has imported what
# the zygote imports; and whether all the zygote imports was imported before its first cell.
PROBE = f"""
import importlib, json, os, sys, warnings
warm = all(name in sys.modules for name in {forked.preloaded()!r})
for name in ["numpy", "scipy.linalg", *{forked.preloaded()!r}]:
    importlib.import_module(name)
import matplotlib
import numpy as np
import scipy.linalg
import scipy.stats
import torch
seed = torch.initial_seed()
torch.manual_seed(0)
a = torch.randn(256, 256)
conv = torch.nn.Conv1d(3, 8, 5)
rng = np.random.default_rng(0)
x = rng.standard_normal((400, 400))
print(json.dumps(dict(
    warm=warm, pid=os.getpid(), ppid=os.getppid(), draw=np.random.rand(), torch_seed=seed,
    same=dict(
        torch=(a @ a).sum().item(), conv=conv(a[:3, :64].unsqueeze(0)).sum().item(), numpy=float((x @ x).sum()),
        scipy=float(scipy.linalg.inv(x[:200, :200] + 20 * np.eye(200)).sum()), t=float(scipy.stats.t.ppf(0.975, 3)),
        threads=torch.get_num_threads(), backend=matplotlib.get_backend(), cwd=os.getcwd(),
        artifacts=os.environ.get("TSINSIGHT_ARTIFACTS"), parent=os.environ.get("JPY_PARENT_PID"),
        filters=sorted(map(repr, warnings.filters)),
    ),
)))
"""
# Only whether a kernel was forked, and by whom: for the kernels that start anew (they need not import it all).
WHERE = f"""
import json, os, sys
print(json.dumps(dict(warm=all(name in sys.modules for name in {forked.preloaded()!r}), ppid=os.getppid())))
"""


@pytest.fixture
def forking(monkeypatch):
    monkeypatch.setenv(forked.SWITCH, "1")


@pytest.fixture
def light_zygote(monkeypatch):
    """A zygote that imports IPython's kernel only: how its kernels are stopped does not depend on what it imported."""
    monkeypatch.setenv(forked.PRELOAD_VARIABLE, "ipykernel.kernelapp")


def _probe(folder: Path, code: str = PROBE) -> dict:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(code)]
    source, output = folder / "probe.ipynb", folder / "probe.out.ipynb"
    nbformat.write(notebook, source)
    papermill.execute_notebook(
        str(source),
        str(output),
        kernel_name=forked.kernel_name(),
        cwd=str(folder),
        progress_bar=False,
        extra_arguments=KERNEL_ARGUMENTS,
    )
    outputs = nbformat.read(output, as_version=4).cells[0].outputs  # a new kernel also prints the imports' warnings
    return json.loads(next(out.text for out in outputs if out.get("name") == "stdout"))


def test_a_forked_kernel_computes_and_sees_what_a_new_one_does(tmp_path, forking, monkeypatch):
    new = _probe(tmp_path)
    with forked.zygote() as ready:
        assert ready and forked.kernel_name() == forked.KERNEL_NAME
        first, second = _probe(tmp_path), _probe(tmp_path)
        source = Path(experiments.__file__)  # imported by the zygote: an edit during the build
        times = source.stat()
        os.utime(source, ns=(times.st_atime_ns, times.st_mtime_ns + 1))
        try:
            edited = _probe(tmp_path, WHERE)
        finally:
            os.utime(source, ns=(times.st_atime_ns, times.st_mtime_ns))
        monkeypatch.setenv("A_VARIABLE_SET_AFTER_THE_ZYGOTE_STARTED", "1")
        apart = _probe(tmp_path, WHERE)
    assert not new["warm"] and first["warm"] and second["warm"]
    assert first["same"] == second["same"] == new["same"]  # bit for bit
    assert first["ppid"] == second["ppid"] != os.getpid()  # the zygote's children, not this process's
    # NumPy's and torch's global generators seeded anew in each, as in a new interpreter
    assert first["draw"] != second["draw"] and first["torch_seed"] != second["torch_seed"]
    # a kernel after an edit of the package's code, or whose environment differs from the zygote's, starts anew
    assert not edited["warm"] and not apart["warm"] and apart["ppid"] == os.getpid()
    assert forked.kernel_name() == "python3" and forked.ZYGOTE_VARIABLE not in os.environ


def test_a_forked_kernel_is_interrupted_shut_down_and_killed_like_any(tmp_path, forking, light_zygote):
    with forked.zygote() as ready:
        assert ready
        manager, client = start_new_kernel(kernel_name=forked.KERNEL_NAME, cwd=str(tmp_path))
        try:
            pid = manager.provisioner.pid
            assert isinstance(manager.provisioner.process, forked.ForkedProcess) and forked._running(pid)
            request = client.execute("import time; time.sleep(60)")
            time.sleep(1)
            manager.interrupt_kernel()
            reply = client.get_shell_msg(timeout=30)
            assert reply["parent_header"]["msg_id"] == request
            assert reply["content"]["ename"] == "KeyboardInterrupt"
            assert client.execute_interactive("x = 1 + 1", timeout=30)["content"]["status"] == "ok"  # alive after
        finally:
            client.stop_channels()
            manager.shutdown_kernel()
        assert not forked._running(pid)
        manager, client = start_new_kernel(kernel_name=forked.KERNEL_NAME, cwd=str(tmp_path))
        pid = manager.provisioner.pid
        client.stop_channels()
        manager.shutdown_kernel(now=True)  # SIGKILL to its session
        assert not forked._running(pid)


BUILD = """
import os, sys, time
os.environ["TSINSIGHT_FORK_KERNELS"] = "1"
from jupyter_client.manager import start_new_kernel
from tsinsight.runner import forked
with forked.zygote():
    manager, client = start_new_kernel(kernel_name=forked.KERNEL_NAME)
    print(manager.provisioner.pid, flush=True)
    time.sleep(120)
"""


def test_the_zygote_and_its_kernels_end_with_a_killed_build(tmp_path, light_zygote):
    build = subprocess.Popen([sys.executable, "-c", BUILD], stdout=subprocess.PIPE, text=True)
    kernel = int(build.stdout.readline())
    zygote = int(Path(f"/proc/{kernel}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert forked._running(kernel) and forked._running(zygote)
    build.send_signal(signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 30
    while (forked._running(kernel) or forked._running(zygote)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not forked._running(zygote) and not forked._running(kernel)
