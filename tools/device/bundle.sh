#!/usr/bin/env bash
# Packs what the GPU machine needs and lacks (it has no .NET): a self-contained linux-x64
# publish of the test suite, `host`, `bench` and `step` into one folder (they share the runtime and
# Engine.dll, whose embedded PTX comes from this machine's nvcc), compressed with xz into the
# ignored folder .bundle/, under the device's 64 MiB carry limit.
#   tools/device/bundle.sh            -> .bundle/engine-linux-x64.tar.xz (+ .bundle/COMMIT)
# Then, on the device (carry [".bundle"]): tools/device/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
LIMIT_MIB=${LIMIT_MIB:-56}   # leave room under 64 MiB for the working tree that travels with it
out=.bundle
stage=$out/stage
log() { printf '[bundle] %s\n' "$*" >&2; }

tools/setup/build-kernels.sh
if ! ls kernels/build/*.ptx >/dev/null 2>&1; then
  log "warning: no PTX built here; the bundle relies on run.sh compiling the kernels on the device"
fi

rm -rf "$stage"
mkdir -p "$stage/app"
for p in tests/Engine.Tests.csproj host/Host.csproj tools/bench/Bench.csproj tools/bench/Step/Step.csproj; do
  log "publish $p"
  dotnet publish "$p" -c Release -r linux-x64 --self-contained true -o "$stage/app" \
    -p:DebugType=none -p:GenerateDocumentationFile=false -nologo -v:q -clp:NoSummary
done

{
  echo "commit $(git rev-parse HEAD)$( [ -n "$(git status --porcelain --untracked-files=no)" ] && echo ' (with uncommitted changes)')"
  echo "branch $(git rev-parse --abbrev-ref HEAD)"
  echo "bundled $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
  echo "embedded PTX: $(ls kernels/build/*.ptx 2>/dev/null | wc -l) modules ($(command -v nvcc >/dev/null && nvcc --version | sed -n 's/.*release \([0-9.]*\).*/nvcc \1/p' || echo 'no nvcc'))"
} >"$stage/COMMIT"
cp "$stage/COMMIT" "$out/COMMIT"

log "compress"
rm -f "$out/engine-linux-x64.tar.xz"
tar -C "$stage" -cf - . | xz -T0 -6 >"$out/engine-linux-x64.tar.xz"
rm -rf "$stage"
size=$(stat -c %s "$out/engine-linux-x64.tar.xz")
mib=$(( (size + 1048575) / 1048576 ))
if [ "$mib" -gt "$LIMIT_MIB" ]; then
  log "FAILED: $out/engine-linux-x64.tar.xz is $mib MiB, over the $LIMIT_MIB MiB budget"
  exit 1
fi
log "$out/engine-linux-x64.tar.xz: $mib MiB; $(cat "$out/COMMIT" | head -1)"
