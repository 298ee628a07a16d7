#!/usr/bin/env bash
# Checks every kernel on the CPU emulator against PyTorch, twice: with the normal index
# dispatch (32-bit paths for these small tensors) and with KERNEL_FORCE_INDEX64 (64-bit paths).
# Needs a C++20 compiler and a Python with torch (PYTHON, default /usr/bin/python3).
# Prints failures and a summary per pass; exits 1 when any check fails.
# Usage: kernels/emulator/run.sh [test-name-filter...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(dirname "$here")/build
PYTHON=${PYTHON:-/usr/bin/python3}
"$PYTHON" -c 'import torch, numpy' 2>/dev/null || { echo "[emulator] $PYTHON has no torch/numpy: nothing checked" >&2; exit 0; }
rc=0
for variant in 32 64; do
  out=$build/emulator; flags=
  [ $variant = 64 ] && { out=$build/emulator64; flags=-DKERNEL_FORCE_INDEX64; }
  EMU_OUT=$out EMU_FLAGS=$flags "$here/build.sh" >/dev/null 2>&1 || { EMU_OUT=$out EMU_FLAGS=$flags "$here/build.sh"; exit 1; }
  log=$(mktemp)
  if EMU_LIB=$out/libkernels_emu.so "$PYTHON" "$here/check_kernels.py" "$@" >"$log" 2>&1; then r=0; else r=1; rc=1; fi
  grep -E '^(FAIL|    \[|Traceback|  File|[A-Za-z]*Error)' "$log" || true
  echo "[emulator] $variant-bit index paths: $(tail -n 1 "$log")"
  rm -f "$log"
done
exit $rc
