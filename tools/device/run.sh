#!/usr/bin/env bash
# Runs ON the GPU machine, from the repository root, after tools/device/bundle.sh here and a
# `run` that carries .bundle. It unpacks the bundle, puts PyTorch's cuDNN/cuBLAS wheels on the
# library path, compiles the kernels with the machine's nvcc for sm_90, and runs the chosen steps:
#   env      GPU, driver, CUDA, cuDNN, PyTorch, bundle commit, date      -> $OUT/env.txt
#   kernels  build-kernels.sh with this nvcc + ptxas register/spill report -> $OUT/kernels.log
#   tests    the test suite's Gpu category (kernels: the bundle's embedded PTX) -> $OUT/tests.log
#   train    a short `host train --gpu 0 $TRAIN_ARGS`                      -> $OUT/train.log
#   bench    tools/bench with the sm_90 kernels built here                -> $OUT/bench.log, bench.md
#   torch    tools/reference/bench_ops.py (PyTorch on the same shapes)    -> $OUT/torch.log, torch.md
# Usage: tools/device/run.sh [step...]   (default: all of them, in that order; env always runs)
# A device command may run 10 minutes: split a full run into two calls, e.g.
#   tools/device/run.sh kernels tests train     and     tools/device/run.sh bench torch
# Environment: PYTHON (a python with torch; default python3), TRAIN_ARGS, TRAIN_TIMEOUT (s, 300),
#              BENCH_ARGS (e.g. "--sweep"), KERNELS=embedded to bench the bundle's PTX instead.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
APP=/tmp/engine-bundle
KOUT=/tmp/engine-kernels
PYTHON=${PYTHON:-python3}
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(kernels tests train bench torch)
status=0
step() { printf '\n[device] ==== %s\n' "$1" >&2; }

# ---- bundle and libraries
if [ ! -x "$APP/app/Engine.Tests" ]; then
  [ -f .bundle/engine-linux-x64.tar.xz ] || { echo "[device] .bundle/engine-linux-x64.tar.xz missing: run tools/device/bundle.sh and carry .bundle" >&2; exit 2; }
  rm -rf "$APP" && mkdir -p "$APP" && tar -C "$APP" -xJf .bundle/engine-linux-x64.tar.xz
fi
site=$("$PYTHON" -c 'import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))' 2>/dev/null || true)
libs=()
if [ -n "$site" ]; then
  for d in "$site"/nvidia/*/lib "$site"/torch/lib; do [ -d "$d" ] && libs+=("$d"); done
fi
for d in /usr/local/cuda/lib64 /usr/local/cuda-*/targets/x86_64-linux/lib; do [ -d "$d" ] && libs+=("$d"); done
LD_LIBRARY_PATH=$(IFS=:; echo "${libs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# ---- env (always)
: >"$OUT/env.txt"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  sed 's/^/bundle: /' "$APP/COMMIT"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader | sed 's/^/gpu: /'
  command -v nvidia-smi >/dev/null && nvidia-smi | sed -n 's/.*CUDA Version: \([0-9.]*\).*/driver CUDA: \1/p'
  nvcc=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -1)
  [ -n "$nvcc" ] && echo "nvcc: $("$nvcc" --version | sed -n 's/.*release \(.*\)/\1/p')"
  "$PYTHON" -c 'import torch; print("torch:", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())' 2>&1
  echo "torch site-packages: ${site:-not found}"
  echo "LD_LIBRARY_PATH: $LD_LIBRARY_PATH"
  for l in libcudnn.so.9 libcublas.so.13 libcublas.so.12; do
    for d in "${libs[@]}"; do [ -e "$d/$l" ] && { echo "found $d/$l"; break; }; done
  done
} >>"$OUT/env.txt" 2>&1
cat "$OUT/env.txt" >&2

run_step() {
  local name=$1; shift
  step "$name"
  "$@"
  local rc=$?
  [ $rc -eq 0 ] || { echo "[device] step $name failed (exit $rc)" >&2; status=1; }
  echo "$name: exit $rc" >>"$OUT/env.txt"
}

kernels_step() {
  KERNELS_OUT=$KOUT tools/setup/build-kernels.sh 2>&1 | tee "$OUT/kernels.log"
  return "${PIPESTATUS[0]}"
}

tests_step() {
  # The Gpu category of the suite, on the bundle's embedded PTX (what ships). MTP returns 8
  # when no test matched the filter.
  (cd "$APP/app" && ./Engine.Tests --filter "TestCategory=Gpu" --no-progress) 2>&1 | tee "$OUT/tests.log"
  return "${PIPESTATUS[0]}"
}

train_step() {
  timeout "${TRAIN_TIMEOUT:-300}" "$APP/app/host" train --gpu 0 ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/train.log"
  return "${PIPESTATUS[0]}"
}

bench_step() {
  local dir=
  if [ "${KERNELS:-native}" != embedded ] && ls "$KOUT"/sm_90/*.ptx >/dev/null 2>&1; then dir=$KOUT/sm_90
  elif [ "${KERNELS:-native}" != embedded ] && ls "$KOUT"/*.ptx >/dev/null 2>&1; then dir=$KOUT; fi
  ENGINE_KERNELS_PTX_DIR=$dir "$APP/app/bench" --markdown "$OUT/bench.md" ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.log"
  return "${PIPESTATUS[0]}"
}

torch_step() {
  "$PYTHON" tools/reference/bench_ops.py --markdown "$OUT/torch.md" 2>&1 | tee "$OUT/torch.log"
  return "${PIPESTATUS[0]}"
}

for s in "${steps[@]}"; do
  case "$s" in
    env) ;;
    kernels) run_step kernels kernels_step ;;
    tests) run_step tests tests_step ;;
    train) run_step train train_step ;;
    bench) [ -d "$KOUT" ] || run_step kernels kernels_step; run_step bench bench_step ;;
    torch) run_step torch torch_step ;;
    *) echo "[device] unknown step '$s' (env, kernels, tests, train, bench, torch)" >&2; status=2 ;;
  esac
done
echo "[device] logs in $OUT: $(ls "$OUT" | tr '\n' ' ')" >&2
exit $status
