#!/usr/bin/env bash
# Compiles kernels/*.cu to PTX under kernels/build/ with whatever nvcc is present:
#   kernels/build/<m>.ptx          -arch=compute_80 (every nvcc; JIT-compiled by the driver on sm_80+)
#   kernels/build/sm_90/<m>.ptx    -arch=sm_90 PTX, and <m>.cubin native H100 code (nvcc 12+ only;
#                                  point ENGINE_KERNELS_PTX_DIR at this folder to use it)
# then runs tools/setup/check-ptx.sh (register/spill report; fails on spills).
# Without nvcc it prints one line and exits 0: the engine builds and runs on the CPU without kernels.
# Environment: NVCC (compiler path), NVCC_CCBIN (host compiler), KERNELS_OUT (output folder),
#              SKIP_PTX_CHECK=1 (skip the ptxas report), LINEINFO=1 (line info for profilers).
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '[kernels] %s\n' "$*" >&2; }

NVCC=${NVCC:-$(command -v nvcc || true)}
if [ -z "$NVCC" ]; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    [ -x "$d/nvcc" ] && { NVCC="$d/nvcc"; break; }
  done
fi
if [ -z "$NVCC" ]; then
  log "no nvcc found: GPU kernels are not built (the CPU backend still works)"
  exit 0
fi

OUT=${KERNELS_OUT:-kernels/build}
version=$("$NVCC" --version | sed -n 's/.*release \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r major minor <<<"$version"
log "$NVCC (CUDA $major.$minor) -> $OUT"

# nvcc 11.8 rejects gcc newer than 11; clang-14 is the supported host compiler there.
ccbin=()
if [ -n "${NVCC_CCBIN:-}" ]; then
  ccbin=(-ccbin "$NVCC_CCBIN")
elif [ "$major" -lt 12 ] && command -v clang-14 >/dev/null; then
  gcc_major=$(gcc -dumpversion 2>/dev/null | cut -d. -f1 || echo 0)
  [ "${gcc_major:-0}" -gt 11 ] && ccbin=(-ccbin clang-14)
fi

# -lineinfo only on request (LINEINFO=1, for profiler source views): ptxas 11.8 crashes
# (SIGSEGV) assembling PTX with line info for sm_90, which would break check-ptx.sh.
flags=(-std=c++17 -O3)
[ "${LINEINFO:-0}" = 1 ] && flags+=(-lineinfo)
mkdir -p "$OUT"
rm -f "$OUT"/*.ptx
if [ "$major" -ge 12 ]; then mkdir -p "$OUT/sm_90"; rm -f "$OUT"/sm_90/*.ptx "$OUT"/sm_90/*.cubin; fi

for src in kernels/*.cu; do
  m=$(basename "$src" .cu)
  "$NVCC" "${ccbin[@]}" "${flags[@]}" -ptx -arch=compute_80 -o "$OUT/$m.ptx" "$src"
  if [ "$major" -ge 12 ]; then
    "$NVCC" "${ccbin[@]}" "${flags[@]}" -ptx -arch=sm_90 -o "$OUT/sm_90/$m.ptx" "$src"
    "$NVCC" "${ccbin[@]}" "${flags[@]}" -cubin -arch=sm_90 -o "$OUT/sm_90/$m.cubin" "$src"
  fi
done
log "built $(ls "$OUT"/*.ptx | wc -l) PTX modules"

if [ "${SKIP_PTX_CHECK:-0}" != 1 ]; then
  tools/setup/check-ptx.sh "$OUT"
  if [ -d "$OUT/sm_90" ]; then tools/setup/check-ptx.sh "$OUT/sm_90"; fi
fi
