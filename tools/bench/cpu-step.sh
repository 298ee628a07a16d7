#!/usr/bin/env bash
# One CPU training step of vovnet57 (64x64, batch 8), segnet (64x64, batch 4) and vgg11 (32x32, batch 16): this engine's
# float32 CPU backend against the same net in PyTorch CPU, on this machine, in one run.
# Engine and PyTorch take turns, ROUNDS times per net (default 3), so that a slow spell of the machine (its speed
# drifts by up to 30 % from one minute to the next) falls on both; each side's time is the median of its rounds'
# medians, and every round's ratio is listed.
# Writes results/cpu-step.md (machine, commit, date, command, times and ratios), keeping earlier runs below.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${ENGINE_TORCH_PYTHON:-/usr/bin/python3}
STEPS=${STEPS:-10}
ROUNDS=${ROUNDS:-3}
dotnet build tools/bench/Step/Step.csproj -c Release -nologo -v:q >/dev/null
bench=tools/bench/Step/bin/Release/net10.0/step
out=results/cpu-step.md
rows=""
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for cfg in "vovnet57 3x64x64 8 10" "segnet 3x64x64 4 22" "vgg11 3x32x32 16 10"; do
  set -- $cfg
  args=(--net "$1" --input "$2" --batch "$3" --classes "$4" --steps "$STEPS")
  engine=() torch=() rounds=()
  for ((r = 1; r <= ROUNDS; r++)); do
    e=$("$bench" "${args[@]}" | tee /dev/stderr | awk '/^RESULT/ {print $3}')
    t=$("$PY" tools/reference/step_bench.py "${args[@]}" | tee /dev/stderr | awk '/^RESULT/ {print $3}')
    engine+=("$e") torch+=("$t")
    rounds+=("$(awk -v e="$e" -v t="$t" 'BEGIN { printf "%.2f", e / t }')")
  done
  e=$(median "${engine[@]}") t=$(median "${torch[@]}")
  ratio=$(awk -v e="$e" -v t="$t" 'BEGIN { printf "%.2f", e / t }')
  rows+="| $1 | $2 | $3 | $e | $t | $ratio | ${rounds[*]} |"$'\n'
done
previous=$(mktemp)
[ -f "$out" ] && cp "$out" "$previous"
{
  echo "# CPU training step: engine vs PyTorch"
  echo
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "- engine: float32 CPU backend, commit $(git rev-parse --short HEAD), $(dotnet --version)"
  echo "- PyTorch: $("$PY" -c 'import torch; print(torch.__version__)') (Debian python3-torch), $(nproc) threads (step_bench.py sets them)"
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- command: tools/bench/cpu-step.sh (STEPS=$STEPS, ROUNDS=$ROUNDS; ms of forward + backward + SGD update: the median of the rounds' medians, engine and PyTorch taking turns)"
  echo
  echo "| net | input | batch | engine ms/step | PyTorch ms/step | engine / PyTorch | each round |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s' "$rows"
  # Earlier runs stay below, newest first (their titles become "Earlier run" headings).
  if [ -s "$previous" ]; then
    echo
    sed -e 's/^# CPU training step: engine vs PyTorch$/## Earlier run/' -e '/^## Earlier runs$/d' "$previous"
  fi
} > "$out"
rm -f "$previous"
cat "$out"
