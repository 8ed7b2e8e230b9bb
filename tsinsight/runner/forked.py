"""Page kernels forked from a process that has already imported what every page imports.

A page's kernel spends about 4 s of CPU before its first cell does anything: starting IPython and importing torch,
pandas, matplotlib and the package (``benchmarks/bench_kernel.py``; the smoke book has about 30 pages). During a
serial build, :func:`zygote` starts one process that imports them once and then forks a kernel for each page, which
finds them imported. Nothing else changes: the kernel is the same ``ipykernel`` application with the same arguments,
working folder and environment, and it runs the page's cells as a freshly started one would.

No library does this for Jupyter kernels, hence the code here. It goes through Jupyter's own extension point, a
kernel provisioner (:class:`ForkedProvisioner`, registered as ``tsinsight-forked`` in ``pyproject.toml``), so that
papermill, nbclient and jupyter_client manage the kernel exactly as they manage any other: connection files,
interrupts, shutdown, kill. A kernel is forked only when that cannot change what the page computes; otherwise the
provisioner starts it the usual way (a new interpreter):

- the zygote has no thread but its main one and OpenBLAS's (NumPy's and SciPy's), which OpenBLAS stops before a
  fork and starts again on demand: torch has run nothing there, and an OpenMP runtime that has started its threads
  cannot be forked safely;
- the kernel would have the zygote's environment (but for the variables jupyter_client sets per kernel: libraries
  such as OpenMP read theirs when they load, in the zygote), the zygote's interpreter and the standard kernel
  command (``python -m ipykernel_launcher``);
- the package's modules that the zygote imported are unchanged on disk since (an edit during a build: the pages
  after it get new kernels, which import the new code);
- Linux (the provisioner watches a forked kernel through ``/proc``).

A forked kernel seeds torch's and NumPy's global generators from the operating system, as a new interpreter does
(Python's ``random`` re-seeds itself after a fork).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from jupyter_client.provisioning import LocalProvisioner

KERNEL_NAME = "tsinsight-forked"
SWITCH = "TSINSIGHT_FORK_KERNELS"  # 0: every kernel starts anew (the unit tests' tiny notebooks start faster so)
ZYGOTE_VARIABLE = "TSINSIGHT_KERNEL_ZYGOTE"  # the zygote's socket, in the environment of the build that started it
# Modules (comma-separated) the zygote imports instead of :func:`preloaded`: the tests of how forked kernels are
# stopped need no torch in them.
PRELOAD_VARIABLE = "TSINSIGHT_ZYGOTE_PRELOAD"
# What the zygote imports once, so that no page's kernel does: what every kernel imports as it starts (IPython's
# kernel and its debugger), what every page imports (torch, pandas, matplotlib's pyplot, the package's experiments:
# its data sets, models and zoo), and what about half of the smoke book's pages import on first use (SciPy's
# statistics, SymPy through torch, Captum: together about 2 s a page, measured at 5659b2c).
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.debugger",
    "torch",
    "pandas",
    "matplotlib.pyplot",
    "tsinsight.experiments",
    "scipy.stats",
    "sympy",
    "captum.attr",
)
# Imported too where installed (``tsinsight[later]``): the four smoke pages with the two masks import tint, and
# pytorch-lightning with it, on first use (3.4 s a page after the above, measured at 6cb830c).
PRELOAD_IF_INSTALLED = ("tint.attr",)
# Variables that jupyter_client sets for each kernel it starts; a kernel may differ from the zygote in these only.
PER_KERNEL = ("JPY_PARENT_PID", "JPY_SESSION_NAME", "PYDEVD_DISABLE_FILE_VALIDATION")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


# ---- in the build: the zygote and the kernel spec that uses it ----


@contextlib.contextmanager
def zygote() -> Iterator[bool]:
    """Start a zygote for the kernels of this process's builds; yields whether they will be forked from it (False
    where they cannot be: not Linux, the provisioner not installed, or ``TSINSIGHT_FORK_KERNELS=0``; then kernels
    start as usual)."""
    off = os.environ.get(SWITCH, "1") == "0" or os.environ.get(ZYGOTE_VARIABLE)
    if off or not sys.platform.startswith("linux") or not _provisioner_installed():
        yield False
        return
    with tempfile.TemporaryDirectory(prefix="tsinsight-kernels-") as folder:
        spec = Path(folder) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps(kernel_spec()))
        address = str(Path(folder) / "zygote.sock")
        path = os.pathsep.join(filter(None, [folder, os.environ.get("JUPYTER_PATH")]))
        with mock.patch.dict(os.environ, {"JUPYTER_PATH": path, ZYGOTE_VARIABLE: address}):
            # os.environ, as jupyter_client gives kernels (the C library's may differ: readline sets COLUMNS, LINES)
            process = subprocess.Popen(
                [sys.executable, "-m", "tsinsight.runner.forked", address],
                stdin=subprocess.DEVNULL,
                env=os.environ.copy(),
            )
            try:
                if _wait_ready(address, process):
                    yield True
                    return
            finally:
                process.terminate()
                process.wait()
    yield False  # the zygote did not start (its error is above): kernels start anew


def kernel_name() -> str:
    """The kernel papermill should start: the forked one inside :func:`zygote`, else the standard ``python3``."""
    return KERNEL_NAME if os.environ.get(ZYGOTE_VARIABLE) else "python3"


def kernel_spec() -> dict:
    """The standard IPython kernel spec, with this module's provisioner."""
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (forked from a warm process)",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},  # as ipykernel's own spec: the debugger's import is quiet
        "metadata": {"kernel_provisioner": {"provisioner_name": KERNEL_NAME}},
    }


def _provisioner_installed() -> bool:
    from importlib.metadata import entry_points

    return bool(entry_points(group="jupyter_client.kernel_provisioners", name=KERNEL_NAME))


def _wait_ready(address: str, process: subprocess.Popen, seconds: float = 120) -> bool:
    """Wait until the zygote answers (it has imported :func:`preloaded`); False if it died or did not answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError):
            return _ask(address, {"ping": True}).get("ready", False)
        time.sleep(0.05)
    return False


def _ask(address: str, request: dict) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(address)
        connection.sendall(json.dumps(request).encode() + b"\n")
        return json.loads(connection.makefile("rb").readline())


# ---- the provisioner: jupyter_client's local one, which asks the zygote for the process ----


class ForkedProvisioner(LocalProvisioner):
    """:class:`jupyter_client.provisioning.LocalProvisioner` whose kernel process is forked by the zygote when it
    can be (see the module's text); everything else (connection file, signals, shutdown) is the local provisioner's."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        address = os.environ.get(ZYGOTE_VARIABLE)
        # what jupyter_client.launch_kernel adds to the environment of every kernel it starts
        env = {**(kwargs.get("env") or os.environ), "JPY_PARENT_PID": str(os.getpid())}
        why = "not the standard kernel command" if not _standard_kernel(cmd) else "no zygote"
        if address and _standard_kernel(cmd):
            try:
                answer = _ask(address, {"argv": cmd[3:], "env": env, "cwd": str(kwargs.get("cwd") or os.getcwd())})
            except (OSError, ValueError) as error:
                answer = {"refused": f"the zygote did not answer ({error})"}
            if "pid" in answer:
                self.process = ForkedProcess(answer["pid"])
                self.pid = self.pgid = answer["pid"]  # a session of its own, as jupyter_client starts kernels
                self.cwd = kwargs.get("cwd", Path.cwd())
                return self.connection_info
            why = answer["refused"]
        print(f"this kernel starts anew, not forked: {why}", file=sys.stderr, flush=True)
        return await super().launch_kernel(cmd, **kwargs)


def _standard_kernel(cmd: list[str]) -> bool:
    python = shutil.which(cmd[0]) if cmd else None
    return (
        python is not None
        and os.path.realpath(python) == os.path.realpath(sys.executable)
        and cmd[1:3] == ["-m", "ipykernel_launcher"]
    )


class ForkedProcess:
    """What :class:`LocalProvisioner` uses of a :class:`subprocess.Popen`, for a kernel that the zygote forked (its
    child, not ours: it is watched through ``/proc``; its exit status is the zygote's to collect, so it reads 0)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _running(self.pid):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _running(pid: int) -> bool:
    """Whether ``pid`` is alive (not gone, not a zombie waiting for the zygote to collect it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# ---- the zygote ----


def preloaded() -> list[str]:
    """What the zygote imports: :data:`PRELOAD`, then what of :data:`PRELOAD_IF_INSTALLED` is installed."""
    return [*PRELOAD, *(module for module in PRELOAD_IF_INSTALLED if importlib.util.find_spec(module.split(".")[0]))]


def serve(address: str) -> None:
    """The zygote: import :func:`preloaded` (or what ``TSINSIGHT_ZYGOTE_PRELOAD`` names), then fork a kernel for each
    request on the socket ``address`` until the build that started it ends (it is terminated, or its parent is gone)."""
    if sys.path and sys.path[0] in ("", os.getcwd()):  # as ipykernel_launcher does: not the folder it started in
        del sys.path[0]
    start_env = _environment_at_start()
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)  # what ipykernel sets before a page imports matplotlib
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # what the kernel spec sets, read as debugpy loads
    import numpy  # noqa: F401  (NumPy's and SciPy's OpenBLAS start their threads as they load, and stop them
    import scipy.linalg  # noqa: F401  before a fork)

    allowed_threads = _threads()
    _import_quietly(os.environ[PRELOAD_VARIABLE].split(",") if os.environ.get(PRELOAD_VARIABLE) else preloaded())
    imported = _package_sources()
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen()
    while os.getppid() == parent:
        _collect_children()
        if not select.select([listener], [], [], 0.1)[0]:
            continue
        connection, _ = listener.accept()
        with connection:
            request = json.loads(connection.makefile("rb").readline())
            answer = _handle(request, (start_env, allowed_threads, imported), listener, connection)
            connection.sendall(json.dumps(answer).encode() + b"\n")


def _import_quietly(modules: list[str]) -> None:
    """Import ``modules``, hiding the warnings they raise as they load (the zygote's, not any page's) but keeping the
    warning filters they add (torch's, SciPy's, SymPy's, ...): a kernel forked afterwards filters its warnings as a
    new one that imported them does."""
    before = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hide_all = warnings.filters[0]
        for module in modules:
            importlib.import_module(module)
        added = [entry for entry in warnings.filters if entry not in before and entry is not hide_all]
    for action, message, category, module, lineno in reversed(added):  # each goes to the front: the order is kept
        pattern = message.pattern if message else ""
        warnings.filterwarnings(action, pattern, category, module.pattern if module else "", lineno)


def _environment_at_start() -> dict[str, str]:
    """The environment this process was started with (its imports may have changed ``os.environ`` since)."""
    entries = Path("/proc/self/environ").read_bytes().split(b"\0")
    return dict(entry.decode(errors="surrogateescape").split("=", 1) for entry in entries if b"=" in entry)


def _handle(request: dict, zygote_state: tuple, listener, connection) -> dict:
    if request.get("ping"):
        return {"ready": True}
    refusal = _why_not_fork(request["env"], *zygote_state)
    if refusal:
        return {"refused": refusal}
    pid = os.fork()
    if pid == 0:  # the kernel
        listener.close()
        connection.close()
        _become_kernel(request["argv"], request["env"], request["cwd"])
    return {"pid": pid}


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _package_sources() -> dict[str, int]:
    """The source files of the package's imported modules, with their modification times."""
    files = [getattr(module, "__file__", None) for name, module in list(sys.modules.items()) if name == "tsinsight"
             or name.startswith("tsinsight.")]  # fmt: skip
    return {path: os.stat(path).st_mtime_ns for path in files if path}


def _why_not_fork(env: dict, start_env: dict, allowed_threads: int, imported: dict[str, int]) -> str | None:
    changed = sorted(path for path, mtime in imported.items() if _mtime(path) != mtime)
    if changed:
        return f"the package's code changed since the zygote imported it ({Path(changed[0]).name}, ...)"
    if _threads() > allowed_threads:
        return f"the zygote has {_threads()} threads, more than OpenBLAS started ({allowed_threads})"
    differ = {name for name in env.keys() ^ start_env.keys() | {n for n in env if env[n] != start_env.get(n)}}
    differ -= set(PER_KERNEL)
    return f"the kernel's environment differs in {sorted(differ)}" if differ else None


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _become_kernel(argv: list[str], env: dict, cwd: str) -> None:
    """In the forked child: become the kernel that ``python -m ipykernel_launcher *argv`` would start. It ends as
    that interpreter would (``SystemExit`` through the zygote's frames, which hold nothing to clean up: the
    interpreter's exit handlers run, as in a kernel that was started anew)."""
    os.setsid()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    import numpy as np
    import torch

    np.random.seed()  # a new interpreter's global generators start from fresh entropy
    torch.seed()
    import ipykernel_launcher
    from ipykernel import kernelapp

    # The process whose end ends the kernel (ipykernel reads it from JPY_PARENT_PID as it is imported, here in the
    # zygote): the zygote, which ends with the build that started it.
    sys.argv = [ipykernel_launcher.__file__, *argv, f"--IPKernelApp.parent_handle={os.getppid()}"]
    kernelapp.launch_new_instance()
    sys.exit(0)


def _collect_children() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


if __name__ == "__main__":
    serve(sys.argv[1])
