#!/usr/bin/env bash
# One entry point for set-up, build and the everyday commands.
#   ./build.sh            install what is missing, compile the kernels, build everything
#   ./build.sh train ...  build, then `host train ...` (no arguments: the embedded default dataset)
#   ./build.sh test ...   build, then run the test suite (extra arguments go to the test runner)
#   ./build.sh host ...   build, then run `host` with the given arguments
# Environment: SKIP_DEPS=1 skips the package check; SKIP_KERNELS=1 keeps the PTX already built; CONFIG=Debug|Release (default Release).
# On Windows (or anywhere with PowerShell 7): build.ps1, with the same commands.
set -euo pipefail
cd "$(dirname "$0")"
CONFIG=${CONFIG:-Release}
OUT=out/bin

log() { printf '[build] %s\n' "$*" >&2; }

install_deps() {
  [ "${SKIP_DEPS:-0}" = 1 ] && return 0
  tools/setup/install-deps.sh
}

build_kernels() {
  [ "${SKIP_KERNELS:-0}" = 1 ] && return 0
  tools/setup/build-kernels.sh
}

build_dotnet() {
  log "dotnet build ($CONFIG)"
  dotnet build Engine.sln -c "$CONFIG" -nologo -clp:NoSummary -v:q
  mkdir -p out
  ln -sfn "../host/bin/$CONFIG/net10.0" "$OUT"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
  build) install_deps; build_kernels; build_dotnet ;;
  train) install_deps; build_kernels; build_dotnet; exec "$OUT/host" train "$@" ;;
  host)  install_deps; build_kernels; build_dotnet; exec "$OUT/host" "$@" ;;
  test)  install_deps; build_kernels; build_dotnet
         exec dotnet test --solution Engine.sln -c "$CONFIG" --no-build "$@" ;;
  -h|--help|help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "build.sh: unknown command '$cmd' (expected build, train, test, host or help)" >&2; exit 2 ;;
esac
