#!/usr/bin/env bash
# Builds libkernels_emu.so: every kernels/*.cu compiled as C++20 for the CPU under emu.h, plus
# generated launch wrappers. Output in kernels/build/emulator/ (ignored by git).
# EMU_FLAGS adds compiler flags (e.g. -DKERNEL_FORCE_INDEX64 to test the 64-bit index paths),
# EMU_OUT changes the output folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels=$(dirname "$here")
out=${EMU_OUT:-$kernels/build/emulator}
CXX=${CXX:-$(command -v clang++-14 || command -v clang++ || command -v g++)}
mkdir -p "$out"
python3 "$here/gen_wrappers.py" "$kernels/ABI.md" "$out/wrappers.cpp"
flags=(-std=c++20 -O1 -g -fPIC -pthread -Wall -Wno-unused-function -Wno-unknown-pragmas -I"$here" -I"$kernels" ${EMU_FLAGS:-})
objs=() pids=()
for src in "$kernels"/*.cu; do
  m=$(basename "$src" .cu)
  "$CXX" "${flags[@]}" -x c++ -include emu.h -c "$src" -o "$out/$m.o" & pids+=($!)
  objs+=("$out/$m.o")
done
"$CXX" "${flags[@]}" -c "$out/wrappers.cpp" -o "$out/wrappers.o" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
"$CXX" -shared -pthread -o "$out/libkernels_emu.so" "${objs[@]}" "$out/wrappers.o"
echo "$out/libkernels_emu.so"
