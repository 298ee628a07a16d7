#!/usr/bin/env bash
# Runs the GPU tests (category Gpu) against the fake driver: kernels run in the CPU emulator,
# cuBLAS and cuDNN are plain loops following the libraries' documented semantics. This checks
# the backend's plumbing (arguments, sizes, accumulation, stream order) without a GPU; it says
# nothing about the real libraries' speed or about PTX compiled for a GPU.
#   tests/Cuda/FakeDriver/run.sh [extra test-runner arguments]
# Needs a built test project (dotnet build Engine.sln) and kernels/ (ABI.md, emulator).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$("$here/build.sh" "${KERNELS_DIR:-$repo/kernels}")
config=${CONFIG:-Debug}
ENGINE_CUDA_LIB_PATH="$out" ENGINE_KERNELS_PTX_DIR="$out/ptx" \
  "$repo/tests/bin/$config/net10.0/Engine.Tests" --filter "TestCategory=Gpu" "$@"
