#!/usr/bin/env bash
# The training data loader against torchvision's DataLoader on the same JPEGs (500x375, q 90,
# written once into data/loader-bench by tools/reference/loader_bench.py --make), the same recipe
# (vovnet: square crop, mirror, resize to 224, colour jitter) and the same batch, with 1 and
# $(nproc) loading threads / worker processes. Writes results/loader.md (newest run first).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${ENGINE_TORCH_PYTHON:-/usr/bin/python3}
DATA=${DATA:-data/loader-bench}
COUNT=${COUNT:-1600}
BATCHES=${BATCHES:-12}
"$PY" tools/reference/loader_bench.py --data "$DATA" --make "$COUNT" --threads 1 --batches 1 >/dev/null
dotnet build tools/bench/Loader/Loader.csproj -c Release -nologo -v:q >/dev/null
loader=tools/bench/Loader/bin/Release/net10.0/loader
rows=""
for threads in 1 $(nproc); do
  e=$("$loader" --data "$DATA" --threads "$threads" --batches "$BATCHES" | tee /dev/stderr | awk '/^RESULT/ {print $3}')
  t=$("$PY" tools/reference/loader_bench.py --data "$DATA" --threads "$threads" --batches "$BATCHES" | tee /dev/stderr | awk '/^RESULT/ {print $3}')
  rows+="| $threads | $e | $(awk -v e="$e" -v n="$threads" 'BEGIN { printf "%.1f", e / n }') | $t | $(awk -v t="$t" -v n="$threads" 'BEGIN { printf "%.1f", t / n }') | $(awk -v e="$e" -v t="$t" 'BEGIN { printf "%.2f", e / t }') |"$'\n'
done
out=results/loader.md
previous=$(mktemp)
[ -f "$out" ] && cp "$out" "$previous"
{
  echo "# Training data loader: engine vs torchvision"
  echo
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "- engine: commit $(git rev-parse --short HEAD), $(dotnet --version); PyTorch $("$PY" -c 'import torch, torchvision; print(torch.__version__, "torchvision", torchvision.__version__)')"
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- data: $COUNT JPEGs, 500x375 and 375x500, quality 90 ($DATA); recipe vovnet at 224, batch 64"
  echo "- command: tools/bench/loader.sh (BATCHES=$BATCHES timed batches after one warm-up batch)"
  echo
  echo "| threads / workers | engine images/s | engine per thread | torchvision images/s | torchvision per worker | engine / torchvision |"
  echo "|---:|---:|---:|---:|---:|---:|"
  printf '%s' "$rows"
  if [ -s "$previous" ]; then
    echo
    sed -e 's/^# Training data loader: engine vs torchvision$/## Earlier run/' "$previous"
  fi
} > "$out"
rm -f "$previous"
cat "$out"
