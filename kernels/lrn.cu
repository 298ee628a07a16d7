// Local response normalisation across channels (ABI.md, "lrn"). Semantics match
// engine/Ops/Lrn.cs: d = k + alpha * (sum of x^2 over the channels within size/2, clipped),
// y = x * d^-beta (alpha on the sum itself, as the AlexNet paper writes it). float32 NCHW, and
// bf16 NCHW / NHWC fp32 / NHWC bf16 (fp32 inside).
#include "bf16.cuh"

// d at channel c of the column x[n, :, p] (column points at channel 0, channels `plane` apart).
__device__ __forceinline__ float lrn_scale(const float* column, int c, int C, i64 plane, int half, float alpha, float k)
{
    float s = 0.f;
    const int j1 = min(c + half, C - 1);
    for (int j = max(c - half, 0); j <= j1; j++) {
        const float v = column[j * plane];
        s += v * v;
    }
    return k + alpha * s;
}

KERNEL void lrn_fwd_f32(float* __restrict__ y, const float* __restrict__ x, int N, int C, int HW, int size,
                        float alpha, float beta, float k)
{
    const int half = size / 2;
    DISPATCH_INDEX((i64)N * C * HW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * C * HW;
        GRID_STRIDE_T(I, i, total) {
            const I t = i / HW;                 // n * C + c
            const int c = (int)(t % C);
            const float* column = x + (i - (I)c * HW);
            y[i] = x[i] * powf(lrn_scale(column, c, C, HW, half, alpha, k), -beta);
        }
    });
}

// dx_c += dy_c d_c^-beta - 2 alpha beta x_c sum_{j within size/2 of c} dy_j x_j d_j^(-beta-1):
// the window is symmetric, so the channels whose window holds c are the channels in c's window.
KERNEL void lrn_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ x, int N, int C,
                        int HW, int size, float alpha, float beta, float k)
{
    const int half = size / 2;
    DISPATCH_INDEX((i64)N * C * HW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * C * HW;
        GRID_STRIDE_T(I, i, total) {
            const I t = i / HW;
            const int c = (int)(t % C);
            const I first = i - (I)c * HW;      // x[n, 0, p]
            const float* xs = x + first;
            const float* dys = dy + first;
            float cross = 0.f;
            const int j1 = min(c + half, C - 1);
            for (int j = max(c - half, 0); j <= j1; j++) {
                const float dj = lrn_scale(xs, j, C, HW, half, alpha, k);
                cross += dys[(i64)j * HW] * xs[(i64)j * HW] * powf(dj, -beta - 1.f);
            }
            const float d = lrn_scale(xs, c, C, HW, half, alpha, k);
            dx[i] += dy[i] * powf(d, -beta) - 2.f * alpha * beta * x[i] * cross;
        }
    });
}

// ---- bf16 and NHWC: the channel stride is HW (NCHW) or 1 (NHWC, a pixel's C channels contiguous).
template <typename T, typename I>
__device__ __forceinline__ float lrn_scale_t(const T* column, int c, int C, I stride, int half, float alpha, float k)
{
    float s = 0.f;
    const int j1 = min(c + half, C - 1);
    for (int j = max(c - half, 0); j <= j1; j++) {
        const float v = load_f(column + (I)j * stride);
        s += v * v;
    }
    return k + alpha * s;
}

template <typename T, bool Nhwc>
__device__ __forceinline__ void lrn_fwd_t(T* __restrict__ y, const T* __restrict__ x, int N, int C, int HW, int size, float alpha, float beta, float k)
{
    const int half = size / 2;
    DISPATCH_INDEX((i64)N * C * HW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * C * HW, stride = Nhwc ? (I)1 : (I)HW;
        GRID_STRIDE_T(I, i, total) {
            const int c = Nhwc ? (int)(i % C) : (int)((i / HW) % C);
            const T* column = x + (i - (I)c * stride);
            store_f(y + i, load_f(x + i) * powf(lrn_scale_t(column, c, C, stride, half, alpha, k), -beta));
        }
    });
}

template <typename T, bool Nhwc>
__device__ __forceinline__ void lrn_bwd_t(T* __restrict__ dx, const T* __restrict__ dy, const T* __restrict__ x, int N, int C, int HW,
                                          int size, float alpha, float beta, float k)
{
    const int half = size / 2;
    DISPATCH_INDEX((i64)N * C * HW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * C * HW, stride = Nhwc ? (I)1 : (I)HW;
        GRID_STRIDE_T(I, i, total) {
            const int c = Nhwc ? (int)(i % C) : (int)((i / HW) % C);
            const I first = i - (I)c * stride;
            const T* xs = x + first;
            const T* dys = dy + first;
            float cross = 0.f;
            const int j1 = min(c + half, C - 1);
            for (int j = max(c - half, 0); j <= j1; j++) {
                const float dj = lrn_scale_t(xs, j, C, stride, half, alpha, k);
                cross += load_f(dys + (I)j * stride) * load_f(xs + (I)j * stride) * powf(dj, -beta - 1.f);
            }
            const float d = lrn_scale_t(xs, c, C, stride, half, alpha, k);
            store_f(dx + i, load_f(dx + i) + load_f(dy + i) * powf(d, -beta) - 2.f * alpha * beta * load_f(x + i) * cross);
        }
    });
}

KERNEL void lrn_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int N, int C, int HW, int size, float alpha, float beta, float k)
{
    lrn_fwd_t<bf16, false>(y, x, N, C, HW, size, alpha, beta, k);
}

KERNEL void lrn_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, const bf16* __restrict__ x, int N, int C, int HW,
                         int size, float alpha, float beta, float k)
{
    lrn_bwd_t<bf16, false>(dx, dy, x, N, C, HW, size, alpha, beta, k);
}

KERNEL void lrn_fwd_nhwc_f32(float* __restrict__ y, const float* __restrict__ x, int N, int C, int HW, int size, float alpha, float beta, float k)
{
    lrn_fwd_t<float, true>(y, x, N, C, HW, size, alpha, beta, k);
}

KERNEL void lrn_bwd_nhwc_f32(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ x, int N, int C, int HW,
                             int size, float alpha, float beta, float k)
{
    lrn_bwd_t<float, true>(dx, dy, x, N, C, HW, size, alpha, beta, k);
}

KERNEL void lrn_fwd_nhwc_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int N, int C, int HW, int size, float alpha, float beta, float k)
{
    lrn_fwd_t<bf16, true>(y, x, N, C, HW, size, alpha, beta, k);
}

KERNEL void lrn_bwd_nhwc_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, const bf16* __restrict__ x, int N, int C, int HW,
                              int size, float alpha, float beta, float k)
{
    lrn_bwd_t<bf16, true>(dx, dy, x, N, C, HW, size, alpha, beta, k);
}
