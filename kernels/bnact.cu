// Batch norm + activation fused, with recompute (ABI.md, "bnact"): per-channel statistics and
// running-statistics update, apply + activation into a possibly strided output, and a backward
// that recomputes z = (x - mean) * invstd * weight + bias from x instead of keeping it.
// One block per channel for the reductions; no atomics.
#include "common.cuh"

enum { ACT_RELU = 0, ACT_MISH = 1 };

template <int A>
__device__ __forceinline__ float activate(float z)
{
    if (A == ACT_MISH) return mish(z);
    return z > 0.f ? z : 0.f;
}

// dy * act'(z): the gradient at the activation's input.
template <int A>
__device__ __forceinline__ float activate_grad(float z, float dy)
{
    if (A == ACT_MISH) return dy * mish_grad(z);
    return z > 0.f ? dy : 0.f;
}

// The same z in forward and both backward kernels.
__device__ __forceinline__ float bn_z(float x, float mu, float scale, float shift) { return fmaf(x - mu, scale, shift); }

// f(n, k) for this thread's share of channel c's N planes of HW elements: whole planes when a
// plane fills the block, else a flat walk over the N*HW elements (32-bit division when it fits).
template <class F>
__device__ __forceinline__ void for_channel(int N, int HW, F f)
{
    if (HW >= (int)blockDim.x) {
        for (int n = 0; n < N; n++)
            for (int k = threadIdx.x; k < HW; k += blockDim.x) f((i64)n, k);
        return;
    }
    const i64 M = (i64)N * HW;
    if (M <= INDEX32_LIMIT) {
        for (unsigned int j = threadIdx.x; j < (unsigned int)M; j += blockDim.x) {
            const unsigned int n = j / (unsigned int)HW;
            f((i64)n, (int)(j - n * (unsigned int)HW));
        }
    } else {
        for (i64 j = threadIdx.x; j < M; j += blockDim.x) {
            const i64 n = j / HW;
            f(n, (int)(j - n * HW));
        }
    }
}

KERNEL void bnact_stats_f32(float* __restrict__ mean, float* __restrict__ invstd, float* __restrict__ runningMean,
                            float* __restrict__ runningVar, const float* __restrict__ x, int N, int C, int HW, float eps, float momentum)
{
    const i64 M = (i64)N * HW, sample = (i64)C * HW;
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        const float* xc = x + (i64)c * HW;
        float s = 0.f;
        for_channel(N, HW, [&](i64 n, int k) { s += xc[n * sample + k]; });
        const float mu = block_sum(s) / (float)M;
        float q = 0.f;
        for_channel(N, HW, [&](i64 n, int k) { const float d = xc[n * sample + k] - mu; q += d * d; });
        const float var = block_sum(q) / (float)M;
        if (threadIdx.x == 0) {
            mean[c] = mu;
            invstd[c] = 1.f / sqrtf(var + eps);
            runningMean[c] = (1.f - momentum) * runningMean[c] + momentum * mu;
            runningVar[c] = (1.f - momentum) * runningVar[c] + momentum * (var * ((float)M / (float)(M - 1)));
        }
    }
}

KERNEL void bnact_running_stats_f32(float* __restrict__ mean, float* __restrict__ invstd, const float* __restrict__ runningMean,
                                    const float* __restrict__ runningVar, int C, float eps)
{
    GRID_STRIDE(c, (i64)C) {
        mean[c] = runningMean[c];
        invstd[c] = 1.f / sqrtf(runningVar[c] + eps);
    }
}

template <int A>
__device__ __forceinline__ void apply(float* __restrict__ y, i64 yStride, const float* __restrict__ x, const float* __restrict__ mean,
                                      const float* __restrict__ invstd, const float* __restrict__ weight, const float* __restrict__ bias,
                                      int N, int C, int HW)
{
    const i64 sample = (i64)C * HW;
    DISPATCH_INDEX(max((i64)N * sample, (i64)(N - 1) * yStride + sample), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * (I)sample;
        GRID_STRIDE_T(I, i, total) {
            const I plane = i / (I)HW, n = plane / (I)C;
            const int c = (int)(plane - n * (I)C);
            const float z = bn_z(x[i], mean[c], invstd[c] * weight[c], bias[c]);
            y[n * (I)yStride + (i - n * (I)sample)] = activate<A>(z);
        }
    });
}

KERNEL void bnact_fwd_f32(float* __restrict__ y, i64 yStride, const float* __restrict__ x, const float* __restrict__ mean,
                          const float* __restrict__ invstd, const float* __restrict__ weight, const float* __restrict__ bias,
                          int N, int C, int HW, int act)
{
    if (act == ACT_MISH) apply<ACT_MISH>(y, yStride, x, mean, invstd, weight, bias, N, C, HW);
    else apply<ACT_RELU>(y, yStride, x, mean, invstd, weight, bias, N, C, HW);
}

template <int A>
__device__ __forceinline__ void reduce_grad(float* __restrict__ sums, float* __restrict__ dweight, float* __restrict__ dbias,
                                            const float* __restrict__ x, const float* __restrict__ dy, i64 dyStride,
                                            const float* __restrict__ mean, const float* __restrict__ invstd,
                                            const float* __restrict__ weight, const float* __restrict__ bias, int N, int C, int HW)
{
    const i64 sample = (i64)C * HW;
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        const float* xc = x + (i64)c * HW;
        const float* gc = dy + (i64)c * HW;
        const float mu = mean[c], r = invstd[c], scale = r * weight[c], shift = bias[c];
        float sdz = 0.f, sdzd = 0.f;
        for_channel(N, HW, [&](i64 n, int k) {
            const float xv = xc[n * sample + k];
            const float dz = activate_grad<A>(bn_z(xv, mu, scale, shift), gc[n * dyStride + k]);
            sdz += dz;
            sdzd += dz * (xv - mu);
        });
        sdz = block_sum(sdz);
        sdzd = block_sum(sdzd) * r;
        if (threadIdx.x == 0) {
            sums[c] = sdz;
            sums[C + c] = sdzd;
            dweight[c] += sdzd;
            dbias[c] += sdz;
        }
    }
}

KERNEL void bnact_bwd_reduce_f32(float* __restrict__ sums, float* __restrict__ dweight, float* __restrict__ dbias,
                                 const float* __restrict__ x, const float* __restrict__ dy, i64 dyStride,
                                 const float* __restrict__ mean, const float* __restrict__ invstd,
                                 const float* __restrict__ weight, const float* __restrict__ bias, int N, int C, int HW, int act)
{
    if (act == ACT_MISH) reduce_grad<ACT_MISH>(sums, dweight, dbias, x, dy, dyStride, mean, invstd, weight, bias, N, C, HW);
    else reduce_grad<ACT_RELU>(sums, dweight, dbias, x, dy, dyStride, mean, invstd, weight, bias, N, C, HW);
}

template <int A>
__device__ __forceinline__ void input_grad(float* __restrict__ dx, const float* __restrict__ x, const float* __restrict__ dy, i64 dyStride,
                                           const float* __restrict__ mean, const float* __restrict__ invstd,
                                           const float* __restrict__ weight, const float* __restrict__ bias,
                                           const float* __restrict__ sums, int N, int C, int HW, int accumulate)
{
    const i64 sample = (i64)C * HW;
    const float inverseCount = 1.f / ((float)N * (float)HW);
    DISPATCH_INDEX(max((i64)N * sample, (i64)(N - 1) * dyStride + sample), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * (I)sample;
        GRID_STRIDE_T(I, i, total) {
            const I plane = i / (I)HW, n = plane / (I)C;
            const int c = (int)(plane - n * (I)C);
            const float mu = mean[c], r = invstd[c], scale = r * weight[c], xv = x[i];
            const float dz = activate_grad<A>(bn_z(xv, mu, scale, bias[c]), dy[n * (I)dyStride + (i - n * (I)sample)]);
            const float before = accumulate ? dx[i] : 0.f;
            if (sums == nullptr) { dx[i] = before + scale * dz; continue; }
            const float meanDz = sums[c] * inverseCount, meanDzXhat = sums[C + c] * inverseCount;
            dx[i] = before + scale * (dz - meanDz - (xv - mu) * r * meanDzXhat);
        }
    });
}

KERNEL void bnact_bwd_dx_f32(float* __restrict__ dx, const float* __restrict__ x, const float* __restrict__ dy, i64 dyStride,
                             const float* __restrict__ mean, const float* __restrict__ invstd,
                             const float* __restrict__ weight, const float* __restrict__ bias,
                             const float* __restrict__ sums, int N, int C, int HW, int act, int accumulate)
{
    if (act == ACT_MISH) input_grad<ACT_MISH>(dx, x, dy, dyStride, mean, invstd, weight, bias, sums, N, C, HW, accumulate);
    else input_grad<ACT_RELU>(dx, x, dy, dyStride, mean, invstd, weight, bias, sums, N, C, HW, accumulate);
}
