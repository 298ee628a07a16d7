// Batch norm + activation fused, with recompute (ABI.md, "bnact"): per-channel statistics and
// running-statistics update, apply + activation into a possibly strided output, and a backward
// that recomputes z = (x - mean) * invstd * weight + bias from x instead of keeping it.
// One block per channel for the NCHW reductions; no atomics. float32 and bf16 storage (x, y,
// dy, dx; statistics, parameters and sums fp32), NCHW and NHWC.
#include "bf16.cuh"

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

template <typename T>
__device__ __forceinline__ void channel_stats(float* __restrict__ mean, float* __restrict__ invstd, float* __restrict__ runningMean,
                                              float* __restrict__ runningVar, const T* __restrict__ x, int N, int C, int HW, float eps, float momentum)
{
    const i64 M = (i64)N * HW, sample = (i64)C * HW;
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        const T* xc = x + (i64)c * HW;
        float s = 0.f;
        for_channel(N, HW, [&](i64 n, int k) { s += load_f(xc + n * sample + k); });
        const float mu = block_sum(s) / (float)M;
        float q = 0.f;
        for_channel(N, HW, [&](i64 n, int k) { const float d = load_f(xc + n * sample + k) - mu; q += d * d; });
        const float var = block_sum(q) / (float)M;
        if (threadIdx.x == 0) {
            mean[c] = mu;
            invstd[c] = 1.f / sqrtf(var + eps);
            runningMean[c] = (1.f - momentum) * runningMean[c] + momentum * mu;
            runningVar[c] = (1.f - momentum) * runningVar[c] + momentum * (var * ((float)M / (float)(M - 1)));
        }
    }
}

KERNEL void bnact_stats_f32(float* __restrict__ mean, float* __restrict__ invstd, float* __restrict__ runningMean,
                            float* __restrict__ runningVar, const float* __restrict__ x, int N, int C, int HW, float eps, float momentum)
{
    channel_stats(mean, invstd, runningMean, runningVar, x, N, C, HW, eps, momentum);
}

KERNEL void bnact_running_stats_f32(float* __restrict__ mean, float* __restrict__ invstd, const float* __restrict__ runningMean,
                                    const float* __restrict__ runningVar, int C, float eps)
{
    GRID_STRIDE(c, (i64)C) {
        mean[c] = runningMean[c];
        invstd[c] = 1.f / sqrtf(runningVar[c] + eps);
    }
}

template <int A, typename T>
__device__ __forceinline__ void apply(T* __restrict__ y, i64 yStride, const T* __restrict__ x, const float* __restrict__ mean,
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
            const float z = bn_z(load_f(x + i), mean[c], invstd[c] * weight[c], bias[c]);
            store_f(y + (n * (I)yStride + (i - n * (I)sample)), activate<A>(z));
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

template <int A, typename T>
__device__ __forceinline__ void reduce_grad(float* __restrict__ sums, float* __restrict__ dweight, float* __restrict__ dbias,
                                            const T* __restrict__ x, const T* __restrict__ dy, i64 dyStride,
                                            const float* __restrict__ mean, const float* __restrict__ invstd,
                                            const float* __restrict__ weight, const float* __restrict__ bias, int N, int C, int HW)
{
    const i64 sample = (i64)C * HW;
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        const T* xc = x + (i64)c * HW;
        const T* gc = dy + (i64)c * HW;
        const float mu = mean[c], r = invstd[c], scale = r * weight[c], shift = bias[c];
        float sdz = 0.f, sdzd = 0.f;
        for_channel(N, HW, [&](i64 n, int k) {
            const float xv = load_f(xc + n * sample + k);
            const float dz = activate_grad<A>(bn_z(xv, mu, scale, shift), load_f(gc + n * dyStride + k));
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

template <int A, typename T>
__device__ __forceinline__ void input_grad(T* __restrict__ dx, const T* __restrict__ x, const T* __restrict__ dy, i64 dyStride,
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
            const float mu = mean[c], r = invstd[c], scale = r * weight[c], xv = load_f(x + i);
            const float dz = activate_grad<A>(bn_z(xv, mu, scale, bias[c]), load_f(dy + (n * (I)dyStride + (i - n * (I)sample))));
            const float before = accumulate ? load_f(dx + i) : 0.f;
            if (sums == nullptr) { store_f(dx + i, before + scale * dz); continue; }
            const float meanDz = sums[c] * inverseCount, meanDzXhat = sums[C + c] * inverseCount;
            store_f(dx + i, before + scale * (dz - meanDz - (xv - mu) * r * meanDzXhat));
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

// ---- NCHW bf16: the float32 kernels' arithmetic on bf16 x, y, dy, dx.

KERNEL void bnact_stats_bf16(float* __restrict__ mean, float* __restrict__ invstd, float* __restrict__ runningMean,
                             float* __restrict__ runningVar, const bf16* __restrict__ x, int N, int C, int HW, float eps, float momentum)
{
    channel_stats(mean, invstd, runningMean, runningVar, x, N, C, HW, eps, momentum);
}

KERNEL void bnact_fwd_bf16(bf16* __restrict__ y, i64 yStride, const bf16* __restrict__ x, const float* __restrict__ mean,
                           const float* __restrict__ invstd, const float* __restrict__ weight, const float* __restrict__ bias,
                           int N, int C, int HW, int act)
{
    if (act == ACT_MISH) apply<ACT_MISH>(y, yStride, x, mean, invstd, weight, bias, N, C, HW);
    else apply<ACT_RELU>(y, yStride, x, mean, invstd, weight, bias, N, C, HW);
}

KERNEL void bnact_bwd_reduce_bf16(float* __restrict__ sums, float* __restrict__ dweight, float* __restrict__ dbias,
                                  const bf16* __restrict__ x, const bf16* __restrict__ dy, i64 dyStride,
                                  const float* __restrict__ mean, const float* __restrict__ invstd,
                                  const float* __restrict__ weight, const float* __restrict__ bias, int N, int C, int HW, int act)
{
    if (act == ACT_MISH) reduce_grad<ACT_MISH>(sums, dweight, dbias, x, dy, dyStride, mean, invstd, weight, bias, N, C, HW);
    else reduce_grad<ACT_RELU>(sums, dweight, dbias, x, dy, dyStride, mean, invstd, weight, bias, N, C, HW);
}

KERNEL void bnact_bwd_dx_bf16(bf16* __restrict__ dx, const bf16* __restrict__ x, const bf16* __restrict__ dy, i64 dyStride,
                              const float* __restrict__ mean, const float* __restrict__ invstd,
                              const float* __restrict__ weight, const float* __restrict__ bias,
                              const float* __restrict__ sums, int N, int C, int HW, int act, int accumulate)
{
    if (act == ACT_MISH) input_grad<ACT_MISH>(dx, x, dy, dyStride, mean, invstd, weight, bias, sums, N, C, HW, accumulate);
    else input_grad<ACT_RELU>(dx, x, dy, dyStride, mean, invstd, weight, bias, sums, N, C, HW, accumulate);
}

// ---- NHWC: x [P, C] contiguous (P = N*HW pixels, channel fastest); y and dy rows of C at a
// pixel stride >= C (a channel slice of an NHWC concatenation). The per-channel reductions are
// split over the grid: each block writes partial sums for every channel into a scratch buffer,
// and a one-thread-per-channel kernel adds the blocks' partials in block order (deterministic
// for a given grid, no atomics).

// Block b adds f(row, c, a, b) over its share of the P rows into per-channel (a, b) and writes
// partial[b*2C + c] = a, partial[b*2C + C + c] = b. With C <= blockDim.x, thread t takes channel
// t % C of rows t / C, t / C + per, ... (per = blockDim.x / C rows at a time, the block's reads
// contiguous), and the `per` row groups are added in a fixed order through shared memory; with
// more channels, thread t takes channels t, t + blockDim.x, ... of every row of its share.
// The row groups' sums, one slot per thread (a plain function, so every instantiation of the
// template below shares the one array).
__device__ __forceinline__ float* row_group_scratch()
{
    __shared__ float scratch[2 * 1024];
    return scratch;
}

template <class F>
__device__ __forceinline__ void nhwc_channel_partials(float* __restrict__ partial, i64 P, int C, F f)
{
    float* shareA = row_group_scratch();
    float* shareB = shareA + 1024;
    const int t = threadIdx.x, B = blockDim.x;
    float* out = partial + (i64)blockIdx.x * 2 * C;
    if (C <= B) {
        const int per = B / C, c = t % C, sub = t / C;
        float a = 0.f, b = 0.f;
        if (sub < per)
            for (i64 r = (i64)blockIdx.x * per + sub; r < P; r += (i64)gridDim.x * per) f(r, c, a, b);
        shareA[t] = a;
        shareB[t] = b;
        __syncthreads();
        if (t < C) {
            float sa = 0.f, sb = 0.f;
            for (int k = 0; k < per; k++) { sa += shareA[k * C + t]; sb += shareB[k * C + t]; }
            out[t] = sa;
            out[C + t] = sb;
        }
    } else {
        for (int c = t; c < C; c += B) {
            float a = 0.f, b = 0.f;
            for (i64 r = blockIdx.x; r < P; r += gridDim.x) f(r, c, a, b);
            out[c] = a;
            out[C + c] = b;
        }
    }
}

// Shifted sums (shift = the channel's value at pixel 0, a sample of the data, so the variance
// S2/P - (S1/P)^2 does not cancel as raw sums would): partial[b*2C + c] = sum (x - shift),
// partial[b*2C + C + c] = sum (x - shift)^2; block 0 also writes the shifts at partial[2*grid*C + c].
template <typename T>
__device__ __forceinline__ void nhwc_stats_partial(float* __restrict__ partial, const T* __restrict__ x, int N, int C, int HW)
{
    const i64 P = (i64)N * HW;
    nhwc_channel_partials(partial, P, C, [&](i64 r, int c, float& a, float& b) {
        const float d = load_f(x + r * C + c) - load_f(x + c);
        a += d;
        b += d * d;
    });
    if (blockIdx.x == 0)
        for (int c = threadIdx.x; c < C; c += blockDim.x) partial[(i64)2 * gridDim.x * C + c] = load_f(x + c);
}

KERNEL void bnact_stats_nhwc_f32(float* __restrict__ partial, const float* __restrict__ x, int N, int C, int HW)
{
    nhwc_stats_partial(partial, x, N, C, HW);
}

KERNEL void bnact_stats_nhwc_bf16(float* __restrict__ partial, const bf16* __restrict__ x, int N, int C, int HW)
{
    nhwc_stats_partial(partial, x, N, C, HW);
}

KERNEL void bnact_stats_finalize_f32(float* __restrict__ mean, float* __restrict__ invstd, float* __restrict__ runningMean,
                                     float* __restrict__ runningVar, const float* __restrict__ partial, int blocks,
                                     int N, int C, int HW, float eps, float momentum)
{
    const i64 M = (i64)N * HW;
    GRID_STRIDE(c, (i64)C) {
        float s1 = 0.f, s2 = 0.f;
        for (int b = 0; b < blocks; b++) {
            s1 += partial[(i64)b * 2 * C + c];
            s2 += partial[(i64)b * 2 * C + C + c];
        }
        const float d = s1 / (float)M;
        const float var = fmaxf(s2 / (float)M - d * d, 0.f);
        const float mu = partial[(i64)2 * blocks * C + c] + d;
        mean[c] = mu;
        invstd[c] = 1.f / sqrtf(var + eps);
        runningMean[c] = (1.f - momentum) * runningMean[c] + momentum * mu;
        runningVar[c] = (1.f - momentum) * runningVar[c] + momentum * (var * ((float)M / (float)(M - 1)));
    }
}

// y[p*yStride + c] = act(z) over the P*C elements; 8 channels per step (16-byte bf16 vectors,
// two float4 for fp32) when C, yStride are multiples of 8 and x, y 16-byte aligned.
template <int A, typename T>
__device__ __forceinline__ void apply_nhwc(T* __restrict__ y, i64 yStride, const T* __restrict__ x, const float* __restrict__ mean,
                                           const float* __restrict__ invstd, const float* __restrict__ weight, const float* __restrict__ bias,
                                           int N, int C, int HW)
{
    const i64 P = (i64)N * HW;
    if (aligned16(y) && aligned16(x) && ((C | yStride) & 7) == 0) {
        const int C8 = C >> 3;
        const i64 total = P * C8;
        GRID_STRIDE(i, total) {
            const i64 p = i / C8;
            const int c0 = (int)(i - p * C8) << 3;
            f8 v = load8(x + p * C + c0);
#pragma unroll
            for (int j = 0; j < 8; j++) {
                const int c = c0 + j;
                v.v[j] = activate<A>(bn_z(v.v[j], mean[c], invstd[c] * weight[c], bias[c]));
            }
            store8(y + p * yStride + c0, v);
        }
        return;
    }
    const i64 total = P * C;
    GRID_STRIDE(i, total) {
        const i64 p = i / C;
        const int c = (int)(i - p * C);
        store_f(y + p * yStride + c, activate<A>(bn_z(load_f(x + i), mean[c], invstd[c] * weight[c], bias[c])));
    }
}

KERNEL void bnact_fwd_nhwc_f32(float* __restrict__ y, i64 yStride, const float* __restrict__ x, const float* __restrict__ mean,
                               const float* __restrict__ invstd, const float* __restrict__ weight, const float* __restrict__ bias,
                               int N, int C, int HW, int act)
{
    if (act == ACT_MISH) apply_nhwc<ACT_MISH>(y, yStride, x, mean, invstd, weight, bias, N, C, HW);
    else apply_nhwc<ACT_RELU>(y, yStride, x, mean, invstd, weight, bias, N, C, HW);
}

KERNEL void bnact_fwd_nhwc_bf16(bf16* __restrict__ y, i64 yStride, const bf16* __restrict__ x, const float* __restrict__ mean,
                                const float* __restrict__ invstd, const float* __restrict__ weight, const float* __restrict__ bias,
                                int N, int C, int HW, int act)
{
    if (act == ACT_MISH) apply_nhwc<ACT_MISH>(y, yStride, x, mean, invstd, weight, bias, N, C, HW);
    else apply_nhwc<ACT_RELU>(y, yStride, x, mean, invstd, weight, bias, N, C, HW);
}

// partial[b*2C + c] = sum dz, partial[b*2C + C + c] = sum dz * (x - mean) over block b's rows.
template <int A, typename T>
__device__ __forceinline__ void reduce_grad_nhwc(float* __restrict__ partial, const T* __restrict__ x, const T* __restrict__ dy, i64 dyStride,
                                                 const float* __restrict__ mean, const float* __restrict__ invstd,
                                                 const float* __restrict__ weight, const float* __restrict__ bias, int N, int C, int HW)
{
    nhwc_channel_partials(partial, (i64)N * HW, C, [&](i64 r, int c, float& a, float& b) {
        const float mu = mean[c], xv = load_f(x + r * C + c);
        const float dz = activate_grad<A>(bn_z(xv, mu, invstd[c] * weight[c], bias[c]), load_f(dy + r * dyStride + c));
        a += dz;
        b += dz * (xv - mu);
    });
}

KERNEL void bnact_bwd_reduce_nhwc_f32(float* __restrict__ partial, const float* __restrict__ x, const float* __restrict__ dy, i64 dyStride,
                                      const float* __restrict__ mean, const float* __restrict__ invstd,
                                      const float* __restrict__ weight, const float* __restrict__ bias, int N, int C, int HW, int act)
{
    if (act == ACT_MISH) reduce_grad_nhwc<ACT_MISH>(partial, x, dy, dyStride, mean, invstd, weight, bias, N, C, HW);
    else reduce_grad_nhwc<ACT_RELU>(partial, x, dy, dyStride, mean, invstd, weight, bias, N, C, HW);
}

KERNEL void bnact_bwd_reduce_nhwc_bf16(float* __restrict__ partial, const bf16* __restrict__ x, const bf16* __restrict__ dy, i64 dyStride,
                                       const float* __restrict__ mean, const float* __restrict__ invstd,
                                       const float* __restrict__ weight, const float* __restrict__ bias, int N, int C, int HW, int act)
{
    if (act == ACT_MISH) reduce_grad_nhwc<ACT_MISH>(partial, x, dy, dyStride, mean, invstd, weight, bias, N, C, HW);
    else reduce_grad_nhwc<ACT_RELU>(partial, x, dy, dyStride, mean, invstd, weight, bias, N, C, HW);
}

KERNEL void bnact_bwd_reduce_finalize_f32(float* __restrict__ sums, float* __restrict__ dweight, float* __restrict__ dbias,
                                          const float* __restrict__ partial, const float* __restrict__ invstd, int blocks, int C)
{
    GRID_STRIDE(c, (i64)C) {
        float sdz = 0.f, sdzd = 0.f;
        for (int b = 0; b < blocks; b++) {
            sdz += partial[(i64)b * 2 * C + c];
            sdzd += partial[(i64)b * 2 * C + C + c];
        }
        sdzd *= invstd[c];
        sums[c] = sdz;
        sums[C + c] = sdzd;
        dweight[c] += sdzd;
        dbias[c] += sdz;
    }
}

// dx[p*C + c] (+)= s * (dz - sums[c]/M - xhat * sums[C + c]/M); 8 channels per step as apply_nhwc.
template <int A, typename T>
__device__ __forceinline__ float dx_of(float before, float xv, float g, int c, const float* __restrict__ mean, const float* __restrict__ invstd,
                                       const float* __restrict__ weight, const float* __restrict__ bias, const float* __restrict__ sums,
                                       int C, float inverseCount)
{
    const float mu = mean[c], r = invstd[c], scale = r * weight[c];
    const float dz = activate_grad<A>(bn_z(xv, mu, scale, bias[c]), g);
    if (sums == nullptr) return before + scale * dz;
    const float meanDz = sums[c] * inverseCount, meanDzXhat = sums[C + c] * inverseCount;
    return before + scale * (dz - meanDz - (xv - mu) * r * meanDzXhat);
}

template <int A, typename T>
__device__ __forceinline__ void input_grad_nhwc(T* __restrict__ dx, const T* __restrict__ x, const T* __restrict__ dy, i64 dyStride,
                                                const float* __restrict__ mean, const float* __restrict__ invstd,
                                                const float* __restrict__ weight, const float* __restrict__ bias,
                                                const float* __restrict__ sums, int N, int C, int HW, int accumulate)
{
    const i64 P = (i64)N * HW;
    const float inverseCount = 1.f / ((float)N * (float)HW);
    if (aligned16(dx) && aligned16(x) && aligned16(dy) && ((C | dyStride) & 7) == 0) {
        const int C8 = C >> 3;
        const i64 total = P * C8;
        GRID_STRIDE(i, total) {
            const i64 p = i / C8;
            const int c0 = (int)(i - p * C8) << 3;
            const f8 xv = load8(x + p * C + c0), g = load8(dy + p * dyStride + c0);
            f8 d = accumulate ? load8(dx + p * C + c0) : f8{{0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}};
#pragma unroll
            for (int j = 0; j < 8; j++)
                d.v[j] = dx_of<A, T>(d.v[j], xv.v[j], g.v[j], c0 + j, mean, invstd, weight, bias, sums, C, inverseCount);
            store8(dx + p * C + c0, d);
        }
        return;
    }
    const i64 total = P * C;
    GRID_STRIDE(i, total) {
        const i64 p = i / C;
        const int c = (int)(i - p * C);
        const float before = accumulate ? load_f(dx + i) : 0.f;
        store_f(dx + i, dx_of<A, T>(before, load_f(x + i), load_f(dy + p * dyStride + c), c, mean, invstd, weight, bias, sums, C, inverseCount));
    }
}

KERNEL void bnact_bwd_dx_nhwc_f32(float* __restrict__ dx, const float* __restrict__ x, const float* __restrict__ dy, i64 dyStride,
                                  const float* __restrict__ mean, const float* __restrict__ invstd,
                                  const float* __restrict__ weight, const float* __restrict__ bias,
                                  const float* __restrict__ sums, int N, int C, int HW, int act, int accumulate)
{
    if (act == ACT_MISH) input_grad_nhwc<ACT_MISH>(dx, x, dy, dyStride, mean, invstd, weight, bias, sums, N, C, HW, accumulate);
    else input_grad_nhwc<ACT_RELU>(dx, x, dy, dyStride, mean, invstd, weight, bias, sums, N, C, HW, accumulate);
}

KERNEL void bnact_bwd_dx_nhwc_bf16(bf16* __restrict__ dx, const bf16* __restrict__ x, const bf16* __restrict__ dy, i64 dyStride,
                                   const float* __restrict__ mean, const float* __restrict__ invstd,
                                   const float* __restrict__ weight, const float* __restrict__ bias,
                                   const float* __restrict__ sums, int N, int C, int HW, int act, int accumulate)
{
    if (act == ACT_MISH) input_grad_nhwc<ACT_MISH>(dx, x, dy, dyStride, mean, invstd, weight, bias, sums, N, C, HW, accumulate);
    else input_grad_nhwc<ACT_RELU>(dx, x, dy, dyStride, mean, invstd, weight, bias, sums, N, C, HW, accumulate);
}
