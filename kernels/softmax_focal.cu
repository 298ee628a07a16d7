// Softmax focal loss over logits [N, K, S] with int32 labels [N, S] and an ignore label, fused
// with the softmax: per-element loss -(1 - p)^gamma * log p and log-sum-exp; the mean is
// softmax_ce_mean_f32's (ABI.md, "softmax_focal"). One thread per element.
#include "softmax_loss.cuh"

// (1 - p)^gamma and the backward weight w = gamma (1 - p)^(gamma - 1) p log p - (1 - p)^gamma.
__device__ __forceinline__ void focal_terms(float logP, float gamma, float& factor, float& weight)
{
    if (gamma == 0.f) { factor = 1.f; weight = -1.f; return; }
    const float p = expf(logP), q = 1.f - p;
    factor = powf(q, gamma);
    // q^(gamma-1) p log p -> 0 as q -> 0 (log p ~ -q), also for gamma < 1.
    const float slope = q > 0.f ? gamma * powf(q, gamma - 1.f) * p * logP : 0.f;
    weight = slope - factor;
}

template <typename T>
__device__ __forceinline__ void focal_fwd(float* __restrict__ loss, float* __restrict__ lse, const T* __restrict__ logits,
                                          const int* __restrict__ labels, int N, int K, int S, int ignoreLabel, float gamma, int* badLabel)
{
    for_each_element(logits, N, K, S, [&](auto e, const T* x, auto stride) {
        const float l = log_sum_exp_of(x, K, stride);
        lse[e] = l;
        const int label = labels[e];
        float value = 0.f;
        if (label != ignoreLabel) {
            if (label_in_range(label, K)) {
                const float logP = load_f(x + label * stride) - l;
                float factor, weight;
                focal_terms(logP, gamma, factor, weight);
                value = -factor * logP;
            } else {
                if (badLabel) atomicExch(badLabel, label);
                value = __int_as_float(0x7fc00000);  // NaN: poisons the mean
            }
        }
        loss[e] = value;
    });
}

KERNEL void softmax_focal_fwd_f32(float* __restrict__ loss, float* __restrict__ lse, const float* __restrict__ logits,
                                  const int* __restrict__ labels, int N, int K, int S, int ignoreLabel, float gamma, int* badLabel)
{
    focal_fwd(loss, lse, logits, labels, N, K, S, ignoreLabel, gamma, badLabel);
}

KERNEL void softmax_focal_fwd_bf16(float* __restrict__ loss, float* __restrict__ lse, const bf16* __restrict__ logits,
                                   const int* __restrict__ labels, int N, int K, int S, int ignoreLabel, float gamma, int* badLabel)
{
    focal_fwd(loss, lse, logits, labels, N, K, S, ignoreLabel, gamma, badLabel);
}

template <typename T>
__device__ __forceinline__ void focal_bwd(T* __restrict__ dlogits, const T* __restrict__ logits, const float* __restrict__ lse,
                                          const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ result,
                                          int N, int K, int S, int ignoreLabel, float gamma)
{
    const float count = result[1];
    if (!(count > 0.f)) return;
    const float scale = dloss[0] / count;
    for_each_counted(dlogits, logits, lse, labels, N, K, S, ignoreLabel, [&](const T* x, T* dx, auto stride, int label, float l) {
        float factor, weight;
        focal_terms(load_f(x + label * stride) - l, gamma, factor, weight);
        const float g = -weight * scale;
        for (int k = 0; k < K; k++)
            store_f(dx + k * stride, load_f(dx + k * stride) + (expf(load_f(x + k * stride) - l) - (k == label ? 1.f : 0.f)) * g);
    });
}

KERNEL void softmax_focal_bwd_f32(float* __restrict__ dlogits, const float* __restrict__ logits, const float* __restrict__ lse,
                                  const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ result,
                                  int N, int K, int S, int ignoreLabel, float gamma)
{
    focal_bwd(dlogits, logits, lse, labels, dloss, result, N, K, S, ignoreLabel, gamma);
}

KERNEL void softmax_focal_bwd_bf16(bf16* __restrict__ dlogits, const bf16* __restrict__ logits, const float* __restrict__ lse,
                                   const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ result,
                                   int N, int K, int S, int ignoreLabel, float gamma)
{
    focal_bwd(dlogits, logits, lse, labels, dloss, result, N, K, S, ignoreLabel, gamma);
}
