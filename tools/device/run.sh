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
#   step     whole-net training step, engine (`step`: fp32, --precision tf32 --profile) against the
#            PyTorch twin (step_bench.py: fp32, tf32, channels_last, bf16, compile) from the
#            same initial weights, for vovnet57 b64 224, vgg16 b64 224, segnet 64x64 b64 and
#            full-width segnet 224 b16                                  -> $OUT/step.log, step.md
# Usage: tools/device/run.sh [step...]   (default: all but `step`, in that order; env always runs)
# A device command may run 10 minutes: split a full run into calls, e.g.
#   tools/device/run.sh kernels tests train     and     tools/device/run.sh bench torch
#   STEP_CONFIGS="vovnet57 vgg16" tools/device/run.sh step   and   STEP_CONFIGS="segnet64 segnet224" tools/device/run.sh step
# Environment: PYTHON (a python with torch; default python3), TRAIN_ARGS, TRAIN_TIMEOUT (s, 300),
#              BENCH_ARGS (e.g. "--sweep"), KERNELS=embedded to bench the bundle's PTX instead,
#              STEP_CONFIGS (labels: vovnet57 vgg16 segnet64 segnet224), STEP_STEPS (10),
#              STEP_WARMUP (3), STEP_TIMEOUT (s per command, 120), STEP_COMPILE_TIMEOUT (s, 200),
#              STEP_ENGINE_ARGS (e.g. "--conv-search benchmark --nondeterministic").
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

# label, then the arguments both benches take
step_config() {
  case "$1" in
    vovnet57)  echo "--net vovnet57 --input 3x224x224 --batch 64" ;;
    vgg16)     echo "--net vgg16 --input 3x224x224 --batch 64" ;;
    segnet64)  echo "--net segnet --input 3x64x64 --batch 64" ;;
    segnet224) echo "--net segnet --input 3x224x224 --batch 16 --width 2" ;;
    *) return 1 ;;
  esac
}

# "RESULT <who> <ms> <images/s> <peak MiB>" -> "<images/s> (<peak> MiB)"; a failure -> "failed"
step_cell() {
  awk -v who="$2" '$1 == "RESULT" && $2 == who { found = 1; if ($3 == "failed") print "failed"; else printf "%.1f (%s MiB)\n", $4, $5 }
    END { if (!found) print "no result" }' "$1" | head -1
}

step_ratio() { # images/s of $2 over images/s of $3, from log $1
  awk -v a="$2" -v b="$3" '$1 == "RESULT" && $3 != "failed" { v[$2] = $4 } END { if (v[a] > 0 && v[b] > 0) printf "%.2f\n", v[a] / v[b]; else print "-" }' "$1"
}

# step_run TAG LOG LIMIT command...: runs it under `timeout`, appends its output to LOG with the
# engine's "RESULT engine" renamed "RESULT TAG", and echoes all but the profile tables' rows.
step_run() {
  local tag=$1 log=$2 limit=$3; shift 3
  local from r
  from=$(( $(wc -l <"$log") + 1 ))
  timeout "$limit" "$@" 2>&1 | sed "s/^RESULT engine /RESULT $tag /" >>"$log"
  r=${PIPESTATUS[0]}
  tail -n +"$from" "$log" | grep -v '^|' >&2
  [ "$r" -eq 124 ] && echo "[device] timed out after ${limit}s: $*" | tee -a "$log" >&2
  return "$r"
}

step_step() {
  local configs=(${STEP_CONFIGS:-vovnet57 vgg16 segnet64 segnet224}) st=${STEP_STEPS:-10} wu=${STEP_WARMUP:-3}
  local to=${STEP_TIMEOUT:-120} cto=${STEP_COMPILE_TIMEOUT:-200} rc=0 rows="" label
  : >"$OUT/step.log"
  for label in "${configs[@]}"; do
    local args log=/tmp/step-$label.log weights=/tmp/step-$label.safetensors
    args=$(step_config "$label") || { echo "[device] step: unknown config '$label' (vovnet57 vgg16 segnet64 segnet224)" | tee -a "$OUT/step.log" >&2; rc=2; continue; }
    : >"$log"
    local common=($args --steps "$st" --warmup "$wu")
    echo "[device] ---- $label: $args" | tee -a "$log" >&2
    step_run engine-fp32 "$log" "$to" "$APP/app/step" "${common[@]}" --gpu 0 --save-weights "$weights" --markdown "$OUT/step-engine.md" ${STEP_ENGINE_ARGS:-} || rc=1
    step_run engine-tf32 "$log" "$to" "$APP/app/step" "${common[@]}" --gpu 0 --precision tf32 --profile --markdown "$OUT/step-engine.md" ${STEP_ENGINE_ARGS:-} || rc=1
    [ -f "$weights" ] && wargs=(--weights "$weights") || wargs=()
    step_run torch "$log" "$to" "$PYTHON" tools/reference/step_bench.py --device cuda "${common[@]}" "${wargs[@]}" --variants fp32,tf32,tf32-cl,bf16-cl || rc=1
    step_run torch "$log" "$cto" "$PYTHON" tools/reference/step_bench.py --device cuda "${common[@]}" "${wargs[@]}" --variants compile || rc=1
    grep -q '^RESULT torch-compile' "$log" || echo "RESULT torch-compile failed timeout or crash (limit ${cto}s)" | tee -a "$log"
    rm -f "$weights"
    cat "$log" >>"$OUT/step.log"
    local cells=()
    for who in engine-fp32 engine-tf32 torch-fp32 torch-tf32 torch-tf32-cl torch-bf16-cl torch-compile; do cells+=("$(step_cell "$log" "$who")"); done
    local best
    best=$(awk '$1 == "RESULT" && $2 ~ /^torch-/ && $3 != "failed" && $4 > m { m = $4; w = $2 } END { print w }' "$log")
    rows+="| $label | ${args//--/} | $(IFS='|'; echo "${cells[*]}" | sed 's/|/ | /g') | $(step_ratio "$log" engine-fp32 torch-fp32) | $(step_ratio "$log" engine-tf32 torch-tf32) | ${best:-none}: $( [ -n "$best" ] && step_ratio "$log" engine-tf32 "$best" || echo -) |"$'\n'
  done
  {
    echo "# Whole-net training step: engine vs PyTorch twin"
    echo
    grep -E '^(date|bundle|gpu|torch):' "$OUT/env.txt" | sed 's/^/- /'
    echo "- steps: $st measured after $wu warm-up, median wall time with the device synchronised after each step; optimizer sgd lr 0.001; same initial weights (safetensors)"
    echo "- engine: \`step --gpu 0\` (fp32: TF32 off) and \`--precision tf32\` ${STEP_ENGINE_ARGS:-}; PyTorch variants: see tools/reference/step_bench.py"
    echo "- cells: images/s (peak MiB: engine allocator peak in use; PyTorch max_memory_allocated)"
    echo
    echo "| config | arguments | engine fp32 | engine TF32 | torch fp32 | torch TF32 | torch TF32 channels_last | torch bf16 channels_last | torch compile | engine/torch fp32 | engine/torch TF32 | engine TF32 / torch best |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s' "$rows"
    echo
    echo "Ratios are images/s, engine over PyTorch: above 1 means the engine is faster. Per-node profiles (engine, TF32) are in step.log."
  } >"$OUT/step.md"
  cat "$OUT/step.md" >&2
  return $rc
}

for s in "${steps[@]}"; do
  case "$s" in
    env) ;;
    kernels) run_step kernels kernels_step ;;
    tests) run_step tests tests_step ;;
    train) run_step train train_step ;;
    bench) [ -d "$KOUT" ] || run_step kernels kernels_step; run_step bench bench_step ;;
    torch) run_step torch torch_step ;;
    step) run_step step step_step ;;
    *) echo "[device] unknown step '$s' (env, kernels, tests, train, bench, torch, step)" >&2; status=2 ;;
  esac
done
echo "[device] logs in $OUT: $(ls "$OUT" | tr '\n' ' ')" >&2
exit $status
