// Multi-class soft Dice loss on the softmax of logits [N, K, S] with int32 labels [N, S] and an
// ignore label (ABI.md, "softmax_dice"). The per-element log-sum-exp comes from
// softmax_ce_fwd_f32; then one block per class sums I_k, P_k, T_k over every element in a fixed
// order (no atomics), one block turns the sums into the loss and the backward coefficients, and
// the backward recomputes the softmax per element.
#include "softmax_loss.cuh"

// Block k: sums[k] = I_k = sum of p_k over counted elements labelled k, sums[K + k] = P_k = sum
// of p_k over counted elements, sums[2K + k] = T_k = number of counted elements labelled k.
template <typename T>
__device__ __forceinline__ void dice_sums(float* __restrict__ sums, const T* __restrict__ logits, const float* __restrict__ lse,
                                          const int* __restrict__ labels, int N, int K, int S, int ignoreLabel)
{
    DISPATCH_INDEX((i64)N * K * S, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * S;
        for (int k = blockIdx.x; k < K; k += gridDim.x) {
            double intersection = 0.0, predicted = 0.0, target = 0.0;
            for (i64 wide = threadIdx.x; wide < (i64)total; wide += blockDim.x) {
                const I e = (I)wide;
                const int label = labels[e];
                if (label == ignoreLabel || !label_in_range(label, K)) continue;
                const I n = e / S;
                const float p = expf(load_f(logits + (n * (I)K * S + (I)k * S + (e - n * S))) - lse[e]);
                predicted += p;
                if (label == k) { intersection += p; target += 1.0; }
            }
            intersection = block_sum(intersection);
            predicted = block_sum(predicted);
            target = block_sum(target);
            if (threadIdx.x == 0) {
                sums[k] = (float)intersection;
                sums[K + k] = (float)predicted;
                sums[2 * K + k] = (float)target;
            }
        }
    });
}

KERNEL void softmax_dice_sums_f32(float* __restrict__ sums, const float* __restrict__ logits, const float* __restrict__ lse,
                                  const int* __restrict__ labels, int N, int K, int S, int ignoreLabel)
{
    dice_sums(sums, logits, lse, labels, N, K, S, ignoreLabel);
}

KERNEL void softmax_dice_sums_bf16(float* __restrict__ sums, const bf16* __restrict__ logits, const float* __restrict__ lse,
                                   const int* __restrict__ labels, int N, int K, int S, int ignoreLabel)
{
    dice_sums(sums, logits, lse, labels, N, K, S, ignoreLabel);
}

// One block: result[0] = 1 - mean_k D_k with D_k = (2 I_k + smooth) / (P_k + T_k + smooth);
// coeff[k] = D_k / (P_k + T_k + smooth), coeff[K + k] = -2 / (P_k + T_k + smooth).
KERNEL void softmax_dice_loss_f32(float* __restrict__ result, float* __restrict__ coeff, const float* __restrict__ sums,
                                  int K, float smooth)
{
    double dice = 0.0;
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
        const double denominator = (double)sums[K + k] + (double)sums[2 * K + k] + smooth;
        const double d = (2.0 * sums[k] + smooth) / denominator;
        dice += d;
        coeff[k] = (float)(d / denominator);
        coeff[K + k] = (float)(-2.0 / denominator);
    }
    dice = block_sum(dice);
    if (threadIdx.x == 0) result[0] = (float)(1.0 - dice / K);
}

// Per counted element, with a_k = (coeff[k] + [k = label] coeff[K + k]) * dloss / K:
// dlogits[n, k, s] += p_k (a_k - sum_j p_j a_j).
template <typename T>
__device__ __forceinline__ void dice_bwd(T* __restrict__ dlogits, const T* __restrict__ logits, const float* __restrict__ lse,
                                         const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ coeff,
                                         int N, int K, int S, int ignoreLabel)
{
    const float scale = dloss[0] / K;
    for_each_counted(dlogits, logits, lse, labels, N, K, S, ignoreLabel, [&](const T* x, T* dx, auto stride, int label, float l) {
        float expected = expf(load_f(x + label * stride) - l) * coeff[K + label];
        for (int k = 0; k < K; k++) expected += expf(load_f(x + k * stride) - l) * coeff[k];
        for (int k = 0; k < K; k++) {
            const float p = expf(load_f(x + k * stride) - l);
            store_f(dx + k * stride, load_f(dx + k * stride) + p * (coeff[k] + (k == label ? coeff[K + label] : 0.f) - expected) * scale);
        }
    });
}

KERNEL void softmax_dice_bwd_f32(float* __restrict__ dlogits, const float* __restrict__ logits, const float* __restrict__ lse,
                                 const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ coeff,
                                 int N, int K, int S, int ignoreLabel)
{
    dice_bwd(dlogits, logits, lse, labels, dloss, coeff, N, K, S, ignoreLabel);
}

KERNEL void softmax_dice_bwd_bf16(bf16* __restrict__ dlogits, const bf16* __restrict__ logits, const float* __restrict__ lse,
                                  const int* __restrict__ labels, const float* __restrict__ dloss, const float* __restrict__ coeff,
                                  int N, int K, int S, int ignoreLabel)
{
    dice_bwd(dlogits, logits, lse, labels, dloss, coeff, N, K, S, ignoreLabel);
}
