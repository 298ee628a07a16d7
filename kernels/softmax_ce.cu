// Softmax cross-entropy over logits [N, K, S] with int32 labels [N, S] and an ignore label:
// fused per-element forward, a one-block mean, and the fused backward (p - onehot) * scale
// (ABI.md, "softmax_ce"). S == 1 (per sample) uses a warp per row, S > 1 a thread per pixel.
#include "softmax_loss.cuh"

// Loss of one element from its log-sum-exp and its label's logit.
template <typename T>
__device__ __forceinline__ float element_loss(float lse, const T* x, i64 classStride, int label, int K, int ignoreLabel, int* badLabel)
{
    if (label == ignoreLabel) return 0.f;
    if (!label_in_range(label, K)) {
        if (badLabel) atomicExch(badLabel, label);
        return __int_as_float(0x7fc00000);  // NaN: poisons the mean
    }
    return lse - load_f(x + label * classStride);
}

template <typename T>
__device__ __forceinline__ void ce_fwd(float* __restrict__ loss, float* __restrict__ lse, const T* __restrict__ logits,
                                       const int* __restrict__ labels, int N, int K, int S, int ignoreLabel, int* badLabel)
{
    if (S == 1) {
        for (i64 n = warp_index(); n < N; n += warp_count()) {
            const T* x = logits + n * K;
            float m = -INFINITY;
            for (int k = lane_id(); k < K; k += 32) m = fmaxf(m, load_f(x + k));
            m = warp_max(m);
            float s = 0.f;
            for (int k = lane_id(); k < K; k += 32) s += expf(load_f(x + k) - m);
            s = warp_sum(s);
            if (lane_id() == 0) {
                const float l = m + logf(s);
                lse[n] = l;
                loss[n] = element_loss(l, x, 1, labels[n], K, ignoreLabel, badLabel);
            }
        }
        return;
    }
    for_each_element(logits, N, K, S, [&](auto e, const T* x, auto stride) {
        const float l = log_sum_exp_of(x, K, stride);
        lse[e] = l;
        loss[e] = element_loss(l, x, stride, labels[e], K, ignoreLabel, badLabel);
    });
}

KERNEL void softmax_ce_fwd_f32(float* __restrict__ loss, float* __restrict__ lse, const float* __restrict__ logits,
                               const int* __restrict__ labels, int N, int K, int S, int ignoreLabel, int* badLabel)
{
    ce_fwd(loss, lse, logits, labels, N, K, S, ignoreLabel, badLabel);
}

KERNEL void softmax_ce_fwd_bf16(float* __restrict__ loss, float* __restrict__ lse, const bf16* __restrict__ logits,
                                const int* __restrict__ labels, int N, int K, int S, int ignoreLabel, int* badLabel)
{
    ce_fwd(loss, lse, logits, labels, N, K, S, ignoreLabel, badLabel);
}

// One block: result[0] = sum(loss) / count (ignored elements hold 0, bad ones NaN), result[1] = count.
KERNEL void softmax_ce_mean_f32(float* __restrict__ result, const float* __restrict__ loss, const int* __restrict__ labels,
                                i64 E, int K, int ignoreLabel)
{
    double sum = 0.0;
    long long count = 0;
    for (i64 e = threadIdx.x; e < E; e += blockDim.x) {
        const int label = labels[e];
        if (label == ignoreLabel) continue;
        sum += loss[e];
        count += label_in_range(label, K);
    }
    sum = block_sum(sum);
    count = block_sum(count);
    if (threadIdx.x == 0) {
        result[0] = count > 0 ? (float)(sum / (double)count) : 0.f;
        result[1] = (float)count;
    }
}

template <typename T>
__device__ __forceinline__ void ce_bwd(T* __restrict__ dlogits, const T* __restrict__ logits, const float* __restrict__ lse,
                                       const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ result,
                                       int N, int K, int S, int ignoreLabel)
{
    const float count = result[1];
    if (!(count > 0.f)) return;
    const float scale = dloss[0] / count;
    if (S == 1) {
        for (i64 n = warp_index(); n < N; n += warp_count()) {
            const int label = labels[n];
            if (!label_in_range(label, K)) continue;
            const T* x = logits + n * K;
            T* dx = dlogits + n * K;
            const float l = lse[n];
            for (int k = lane_id(); k < K; k += 32)
                store_f(dx + k, load_f(dx + k) + (expf(load_f(x + k) - l) - (k == label ? 1.f : 0.f)) * scale);
        }
        return;
    }
    for_each_counted(dlogits, logits, lse, labels, N, K, S, ignoreLabel, [&](const T* x, T* dx, auto stride, int label, float l) {
        for (int k = 0; k < K; k++)
            store_f(dx + k * stride, load_f(dx + k * stride) + (expf(load_f(x + k * stride) - l) - (k == label ? 1.f : 0.f)) * scale);
    });
}

KERNEL void softmax_ce_bwd_f32(float* __restrict__ dlogits, const float* __restrict__ logits, const float* __restrict__ lse,
                               const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ result,
                               int N, int K, int S, int ignoreLabel)
{
    ce_bwd(dlogits, logits, lse, labels, dloss, result, N, K, S, ignoreLabel);
}

KERNEL void softmax_ce_bwd_bf16(bf16* __restrict__ dlogits, const bf16* __restrict__ logits, const float* __restrict__ lse,
                                const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ result,
                                int N, int K, int S, int ignoreLabel)
{
    ce_bwd(dlogits, logits, lse, labels, dloss, result, N, K, S, ignoreLabel);
}
