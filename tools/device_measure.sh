#!/usr/bin/env bash
# On the GPU machine: measure the GPU path in one window. bench_epoch.py on CUDA at the profile's batches, then as much
# of the profile's book as SECONDS allow (tools/device_run.sh, 8 pages at a time), each page's time in book.log, and
# the pages it executed packed into OUT/book (tools/device.py unpack brings them here). Carry .whl and .mirror
# (make device-prepare). Usage: bash tools/device_measure.sh OUT [SECONDS] [PROFILE]
set -uo pipefail
out=${1:?usage: tools/device_measure.sh OUT [SECONDS] [PROFILE]}
seconds=${2:-420}
profile=${3:-paper}
cd "$(dirname "$0")/.."
mkdir -p "$out"
source tools/device_env.sh > "$out/install.log" 2>&1 || { cat "$out/install.log"; exit 2; }
export PYTHON PYTHONPATH="$PWD" TSINSIGHT_DATA_MIRROR="${TSINSIGHT_DATA_MIRROR:-$PWD/.mirror}"
device=$("$PYTHON" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
{ nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null; nproc; } > "$out/machine.txt"
timeout 150 "$PYTHON" benchmarks/bench_epoch.py --device "$device" --profile "$profile" --steps 20 \
  > "$out/bench_epoch.txt" 2>&1 || echo "bench_epoch: rc $?" >> "$out/bench_epoch.txt"
start=$(date +%s)
: > "$out/book.log"  # appended to (O_APPEND): kernels orphaned by the timeout must not write over the lines below
timeout "$seconds" bash tools/device_run.sh "$profile" "$out/book" 8 >> "$out/book.log" 2>&1
echo "book: rc $? after $(( $(date +%s) - start )) s (124: stopped at ${seconds} s)" >> "$out/book.log"
"$PYTHON" tools/device.py pack "$profile" "$out/book" >> "$out/book.log" 2>&1 || true  # what finished comes back
grep -v "IPKernelApp\|resource_tracker\|warnings.warn" "$out/book.log" | tail -n 60
