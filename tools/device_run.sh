#!/usr/bin/env bash
# On the GPU machine (or here, on any profile): execute the book's pages and pack them with their result tables into
# OUT. Usage: bash tools/device_run.sh PROFILE OUT [WORKERS]. See tools/device.py for the whole procedure.
set -euo pipefail
profile=${1:?usage: tools/device_run.sh PROFILE OUT [WORKERS]}
out=${2:?usage: tools/device_run.sh PROFILE OUT [WORKERS]}
workers=${3:-1}
cd "$(dirname "$0")/.."
source tools/device_env.sh  # PYTHON: the caller's, or on the GPU machine a venv with the carried wheels
python=$PYTHON
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${TSINSIGHT_DATA_MIRROR:-}" ] && [ -d .mirror ]; then export TSINSIGHT_DATA_MIRROR="$PWD/.mirror"; fi
# the pages that need scikit-posthocs (not carried) are left to 'make edition' here, always, so that the CPU run of
# this script in 'make smoke-book' goes exactly the GPU machine's way
read -r -a left_out <<< "$("$python" tools/device.py left-out)"
status=0
"$python" -m tsinsight.book build --profile "$profile" --no-html --workers "$workers" --skip "${left_out[@]}" || status=$?
"$python" tools/device.py pack "$profile" "$out"  # what was executed comes back even when a page failed
exit "$status"
