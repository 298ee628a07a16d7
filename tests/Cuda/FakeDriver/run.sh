#!/usr/bin/env bash
# Runs the GPU tests (category Gpu) against the fake driver: kernels run in the CPU emulator,
# cuBLAS is a plain loop, cuDNN is absent (its tests are ignored with that reason).
#   tests/Cuda/FakeDriver/run.sh [extra test-runner arguments]
# Needs a built test project (dotnet build Engine.sln) and kernels/ (ABI.md, emulator).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$("$here/build.sh" "${KERNELS_DIR:-$repo/kernels}")
config=${CONFIG:-Debug}
ENGINE_CUDA_LIB_PATH="$out" ENGINE_KERNELS_PTX_DIR="$out/ptx" \
  "$repo/tests/bin/$config/net10.0/Engine.Tests" --filter "TestCategory=Gpu" "$@"
