// What the softmax loss kernels (softmax_ce, softmax_focal, softmax_dice) share: logits viewed as
// [N, K, S], labels [N, S], element e = n*S + s, and the loops over the elements. Logits are
// float or bf16 (T); every loss quantity is float32. NHWC logits [N, H, W, K] are the S = 1 case
// with N*H*W rows.
#pragma once
#include "bf16.cuh"

// log(sum_k exp(x[k * stride])) over K classes in one pass (online max and sum), any logit type.
template <typename T, typename I>
__device__ __forceinline__ float log_sum_exp_of(const T* x, int K, I stride)
{
    float m = -INFINITY, s = 0.f;
    for (int k = 0; k < K; k++) {
        const float v = load_f(x + (I)k * stride);
        if (v > m) { s = s * expf(m - v) + 1.f; m = v; }
        else s += expf(v - m);
    }
    return m + logf(s);
}

// body(e, x, stride) for every element, x pointing at its class-0 logit (classes `stride` apart);
// one thread per element, 32- or 64-bit indices as DISPATCH_INDEX picks.
template <typename T, typename F>
__device__ __forceinline__ void for_each_element(const T* logits, int N, int K, int S, F body)
{
    DISPATCH_INDEX((i64)N * K * S, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * S;
        GRID_STRIDE_T(I, e, total) {
            const I n = e / S;
            body(e, logits + n * (I)K * S + (e - n * S), (I)S);
        }
    });
}

// body(x, dx, stride, label, lse) for every counted element (label in [0, K), not ignoreLabel),
// x and dx pointing at its class-0 logit and gradient, lse its saved log-sum-exp.
template <typename T, typename F>
__device__ __forceinline__ void for_each_counted(T* dlogits, const T* logits, const float* lse, const int* labels,
                                                 int N, int K, int S, int ignoreLabel, F body)
{
    DISPATCH_INDEX((i64)N * K * S, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * S;
        GRID_STRIDE_T(I, e, total) {
            const int label = labels[e];
            if (label == ignoreLabel || !label_in_range(label, K)) continue;
            const I n = e / S;
            const I offset = n * (I)K * S + (e - n * S);
            body(logits + offset, dlogits + offset, (I)S, label, lse[e]);
        }
    });
}
