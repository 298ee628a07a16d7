// Deterministic reductions for losses and metrics: one-block sums, top-k ranks, per-pixel
// argmax and confusion counts (ABI.md, "reduce").
#include "bf16.cuh"

// One block; double accumulation, fixed order for a given block size.
template <bool Square>
__device__ __forceinline__ void one_block_sum(float* __restrict__ out, const float* __restrict__ x, i64 n)
{
    double s = 0.0;
    if (aligned16(x)) {
        const i64 n4 = n >> 2;
        for (i64 i = threadIdx.x; i < n4; i += blockDim.x) {
            const float4 v = load4(x + 4 * i);
            s += Square ? (double)v.x * v.x + (double)v.y * v.y + (double)v.z * v.z + (double)v.w * v.w
                        : (double)v.x + v.y + v.z + v.w;
        }
        for (i64 i = (n4 << 2) + threadIdx.x; i < n; i += blockDim.x) s += Square ? (double)x[i] * x[i] : (double)x[i];
    } else {
        for (i64 i = threadIdx.x; i < n; i += blockDim.x) s += Square ? (double)x[i] * x[i] : (double)x[i];
    }
    s = block_sum(s);
    if (threadIdx.x == 0) out[0] = (float)s;
}

KERNEL void sum_f32(float* __restrict__ out, const float* __restrict__ x, i64 n) { one_block_sum<false>(out, x, n); }
KERNEL void sum_squares_f32(float* __restrict__ out, const float* __restrict__ x, i64 n) { one_block_sum<true>(out, x, n); }

// Rank of the label's logit in its row (0 = top-1; K when it is NaN); -1 for a label outside [0, K). One warp per row.
template <typename T>
__device__ __forceinline__ void class_rank(int* __restrict__ rank, const T* __restrict__ logits, const int* __restrict__ labels, int N, int K)
{
    for (i64 n = warp_index(); n < N; n += warp_count()) {
        const int label = labels[n];
        if ((unsigned int)label >= (unsigned int)K) {
            if (lane_id() == 0) rank[n] = -1;
            continue;
        }
        const T* x = logits + n * K;
        const float target = load_f(x + label);
        if (isnan(target)) {  // a NaN score ranks last, as in the CPU reference (TopK.RankOf)
            if (lane_id() == 0) rank[n] = K;
            continue;
        }
        int above = 0;
        for (int k = lane_id(); k < K; k += 32) {
            const float v = load_f(x + k);
            above += (v > target || (v == target && k < label)) ? 1 : 0;
        }
        above = (int)warp_sum((long long)above);
        if (lane_id() == 0) rank[n] = above;
    }
}

KERNEL void class_rank_f32(int* __restrict__ rank, const float* __restrict__ logits, const int* __restrict__ labels, int N, int K)
{
    class_rank(rank, logits, labels, N, K);
}

KERNEL void class_rank_bf16(int* __restrict__ rank, const bf16* __restrict__ logits, const int* __restrict__ labels, int N, int K)
{
    class_rank(rank, logits, labels, N, K);
}

// First class with the largest logit of element (n, s); NaN never wins.
template <typename T>
__device__ __forceinline__ int argmax_class(const T* x, i64 classStride, int K)
{
    float best = load_f(x);
    int at = 0;
    for (int k = 1; k < K; k++) {
        const float v = load_f(x + k * classStride);
        if (v > best || (isnan(best) && !isnan(v))) { best = v; at = k; }
    }
    return at;
}

template <typename T>
__device__ __forceinline__ void argmax_classes(int* __restrict__ pred, const T* __restrict__ logits, int N, int K, int S)
{
    const i64 total = (i64)N * S;
    GRID_STRIDE(e, total) {
        const i64 n = e / S;
        pred[e] = argmax_class(logits + n * K * S + (e - n * S), S, K);
    }
}

KERNEL void argmax_classes_f32(int* __restrict__ pred, const float* __restrict__ logits, int N, int K, int S)
{
    argmax_classes(pred, logits, N, K, S);
}

KERNEL void argmax_classes_bf16(int* __restrict__ pred, const bf16* __restrict__ logits, int N, int K, int S)
{
    argmax_classes(pred, logits, N, K, S);
}

// conf[label * K + pred] += 1 for every element with a label in [0, K); integer atomics are exact.
template <typename T>
__device__ __forceinline__ void confusion(int* __restrict__ conf, const T* __restrict__ logits, const int* __restrict__ labels,
                                          int N, int K, int S, int ignoreLabel, int useShared)
{
    int* local = dynamic_shared<int>();
    const int cells = K * K;
    if (useShared) {
        for (int j = threadIdx.x; j < cells; j += blockDim.x) local[j] = 0;
        __syncthreads();
    }
    int* counts = useShared ? local : conf;
    const i64 total = (i64)N * S;
    GRID_STRIDE(e, total) {
        const int label = labels[e];
        if (label == ignoreLabel || (unsigned int)label >= (unsigned int)K) continue;
        const i64 n = e / S;
        const int pred = argmax_class(logits + n * K * S + (e - n * S), S, K);
        atomicAdd(counts + label * K + pred, 1);
    }
    if (useShared) {
        __syncthreads();
        for (int j = threadIdx.x; j < cells; j += blockDim.x)
            if (local[j] != 0) atomicAdd(conf + j, local[j]);
    }
}

KERNEL void confusion_f32(int* __restrict__ conf, const float* __restrict__ logits, const int* __restrict__ labels,
                          int N, int K, int S, int ignoreLabel, int useShared)
{
    confusion(conf, logits, labels, N, K, S, ignoreLabel, useShared);
}

KERNEL void confusion_bf16(int* __restrict__ conf, const bf16* __restrict__ logits, const int* __restrict__ labels,
                           int N, int K, int S, int ignoreLabel, int useShared)
{
    confusion(conf, logits, labels, N, K, S, ignoreLabel, useShared);
}
