#!/usr/bin/env bash
# Builds the fake CUDA driver, cuBLAS and cuDNN (tests/Cuda/FakeDriver) over the kernel emulator:
#   tests/Cuda/FakeDriver/build.sh [kernels-dir] [out-dir]
# kernels-dir defaults to the repository's kernels/ (needs kernels/ABI.md and kernels/emulator),
# out-dir to $TMPDIR/engine-fake-cuda. Prints the out-dir; use run.sh to run the GPU tests on it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
kernels=$(cd "${1:-$repo/kernels}" && pwd)
out=${2:-${TMPDIR:-/tmp}/engine-fake-cuda}
CXX=${CXX:-$(command -v clang++-14 || command -v clang++ || command -v g++)}
mkdir -p "$out"
EMU_OUT="$out/emulator" "$kernels/emulator/build.sh" >/dev/null
python3 "$here/gen_dispatch.py" "$kernels/ABI.md" "$out"
flags=(-std=c++20 -O1 -g -fPIC -pthread -Wall)
"$CXX" "${flags[@]}" -shared -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1" "$here/fake_cuda.cpp" "$out/dispatch.cpp" \
  -L"$out/emulator" -lkernels_emu -Wl,-rpath,"$out/emulator"
# The libraries queue their work on the fake driver's streams (fake_submit.h), so that stream capture records it.
driver=(-L"$out" -l:libcuda.so.1 -Wl,-rpath,"$out")
"$CXX" "${flags[@]}" -shared -o "$out/libcublas.so.13" "$here/fake_cublas.cpp" "${driver[@]}"
"$CXX" "${flags[@]}" -shared -o "$out/libcudnn.so.9" "$here/fake_cudnn.cpp" "$here/fake_cudnn_backend.cpp" "${driver[@]}"
# The sub-libraries cuDNN 9 loads lazily; the engine preloads them from beside libcudnn.so.9.
for part in graph ops cnn; do
  echo "extern \"C\" int fake_cudnn_$part() { return 0; }" | "$CXX" -x c++ -shared -fPIC -o "$out/libcudnn_$part.so.9" -
done
echo "$out"
