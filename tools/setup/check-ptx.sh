#!/usr/bin/env bash
# Assembles every kernels/build/*.ptx for sm_90 with `ptxas -v` and prints one line per
# kernel: registers, stack frame, spill stores/loads, shared memory. Exits non-zero when any
# kernel spills or uses a stack frame (local memory), which in these kernels means spilling.
# Usage: tools/setup/check-ptx.sh [ptx-folder] (default kernels/build). ARCH overrides sm_90.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-kernels/build}
arch=${ARCH:-sm_90}

PTXAS=$(command -v ptxas || true)
[ -z "$PTXAS" ] && [ -x /usr/local/cuda/bin/ptxas ] && PTXAS=/usr/local/cuda/bin/ptxas
if [ -z "$PTXAS" ]; then echo "[ptx] no ptxas found: nothing checked" >&2; exit 0; fi
shopt -s nullglob
files=("$dir"/*.ptx)
if [ ${#files[@]} -eq 0 ]; then echo "[ptx] no PTX in $dir: nothing checked" >&2; exit 0; fi

printf '%-28s %-12s %5s %6s %7s %7s %6s\n' kernel module regs stack spill_st spill_ld smem
bad=0
for f in "${files[@]}"; do
  m=$(basename "$f" .ptx)
  report=$("$PTXAS" -arch="$arch" -v "$f" -o /dev/null 2>&1) || { echo "$report" >&2; echo "[ptx] ptxas failed on $f" >&2; exit 1; }
  # ptxas prints, per entry: "Compiling entry function 'k'", "N bytes stack frame, S bytes
  # spill stores, L bytes spill loads", "Used R registers[, B bytes smem]".
  rows=$(awk -v m="$m" '
    /Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); k = substr($0, RSTART + 1, RLENGTH - 2) }
    /bytes stack frame/ { stack = $1; st = $5; ld = $9 }
    /Used [0-9]+ registers/ {
      regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
      smem = 0; if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ .*/, "", smem) }
      printf "%-28s %-12s %5s %6s %7s %7s %6s\n", k, m, regs, stack, st, ld, smem
    }' <<<"$report")
  echo "$rows"
  while read -r k _ _ stack st ld _; do
    if [ "${stack:-0}" != 0 ] || [ "${st:-0}" != 0 ] || [ "${ld:-0}" != 0 ]; then
      echo "[ptx] $k ($m.ptx) spills or uses local memory: stack $stack, spill stores $st, spill loads $ld" >&2
      bad=1
    fi
  done <<<"$rows"
done
[ $bad -eq 0 ] || { echo "[ptx] FAILED: spilling kernels above" >&2; exit 1; }
echo "[ptx] $arch: no spills, no stack frames" >&2
