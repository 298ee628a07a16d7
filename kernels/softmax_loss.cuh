// What the softmax loss kernels (softmax_ce, softmax_focal, softmax_dice) share: logits viewed as
// [N, K, S], labels [N, S], element e = n*S + s, and the loops over the elements.
#pragma once
#include "common.cuh"

// body(e, x, stride) for every element, x pointing at its class-0 logit (classes `stride` apart);
// one thread per element, 32- or 64-bit indices as DISPATCH_INDEX picks.
template <typename F>
__device__ __forceinline__ void for_each_element(const float* logits, int N, int K, int S, F body)
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
template <typename F>
__device__ __forceinline__ void for_each_counted(float* dlogits, const float* logits, const float* lse, const int* labels,
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
