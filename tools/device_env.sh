# Sourced by tools/device_run.sh and tools/device_measure.sh: sets PYTHON to an interpreter with the book's tools.
# Here (make smoke-book) that is the caller's PYTHON. On the GPU machine it is a venv on top of the machine's own
# PyTorch environment, with the carried wheels (.whl/) installed without the network. The machine's PyTorch lives in a
# venv of its own (/opt/torch/.venv), which --system-site-packages does not reach (it reaches the base interpreter's),
# so a .pth file puts that environment's site-packages on the new venv's path.
python=${PYTHON:-python3}
if ! "$python" -c "import captum, papermill, ipykernel, nbformat, filelock" 2>/dev/null; then
  [ -d .whl ] || { echo "missing .whl/: run 'python tools/device.py prepare' and carry .whl and .mirror" >&2; exit 2; }
  base_site=$("$python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  "$python" -m venv --system-site-packages /tmp/tsinsight-device
  python=/tmp/tsinsight-device/bin/python
  echo "$base_site" > "$("$python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/machine-torch.pth"
  "$python" tools/device.py install .whl
fi
PYTHON=$python
