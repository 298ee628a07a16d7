// ReLU and Mish, forward and backward (ABI.md, "activation"), float32 and bf16 (fp32 inside,
// 16-byte vectors of 8). Backward kernels accumulate.
#include "bf16.cuh"

struct ReluFwd { __device__ float operator()(float x) const { return x > 0.f ? x : 0.f; } };
struct ReluBwd { __device__ float operator()(float dx, float x, float dy) const { return x > 0.f ? dx + dy : dx; } };

struct MishFwd { __device__ float operator()(float x) const { return mish(x); } };
struct MishBwd { __device__ float operator()(float dx, float x, float dy) const { return fmaf(dy, mish_grad(x), dx); } };

KERNEL void relu_fwd_f32(float* __restrict__ y, const float* __restrict__ x, i64 n) { map_unary(y, x, n, ReluFwd()); }

KERNEL void relu_bwd_f32(float* __restrict__ dx, const float* __restrict__ x, const float* __restrict__ dy, i64 n)
{
    update_binary(dx, x, dy, n, ReluBwd());
}

KERNEL void mish_fwd_f32(float* __restrict__ y, const float* __restrict__ x, i64 n) { map_unary(y, x, n, MishFwd()); }

KERNEL void mish_bwd_f32(float* __restrict__ dx, const float* __restrict__ x, const float* __restrict__ dy, i64 n)
{
    update_binary(dx, x, dy, n, MishBwd());
}

// Strided 2-D forms, for writing into (and reading the gradient from) a channel slice of a
// concatenation buffer: element (r, c) lives at base + r * stride + c.
KERNEL void mish_fwd_2d_f32(float* __restrict__ y, i64 yStride, const float* __restrict__ x, i64 xStride, int rows, i64 cols)
{
    const bool vec = aligned16(y) && aligned16(x) && ((yStride | xStride | cols) & 3) == 0;
    if (vec) {
        const i64 cols4 = cols >> 2, total = rows * cols4;
        GRID_STRIDE(i, total) {
            const i64 r = i / cols4, c = (i - r * cols4) << 2;
            float4 v = load4(x + r * xStride + c);
            v.x = mish(v.x); v.y = mish(v.y); v.z = mish(v.z); v.w = mish(v.w);
            store4(y + r * yStride + c, v);
        }
    } else {
        const i64 total = rows * cols;
        GRID_STRIDE(i, total) {
            const i64 r = i / cols, c = i - r * cols;
            y[r * yStride + c] = mish(x[r * xStride + c]);
        }
    }
}

KERNEL void mish_bwd_2d_f32(float* __restrict__ dx, i64 dxStride, const float* __restrict__ x, i64 xStride,
                            const float* __restrict__ dy, i64 dyStride, int rows, i64 cols)
{
    const bool vec = aligned16(dx) && aligned16(x) && aligned16(dy) && ((dxStride | xStride | dyStride | cols) & 3) == 0;
    if (vec) {
        const i64 cols4 = cols >> 2, total = rows * cols4;
        GRID_STRIDE(i, total) {
            const i64 r = i / cols4, c = (i - r * cols4) << 2;
            const float4 u = load4(x + r * xStride + c), g = load4(dy + r * dyStride + c);
            float4 t = load4(dx + r * dxStride + c);
            t.x = fmaf(g.x, mish_grad(u.x), t.x); t.y = fmaf(g.y, mish_grad(u.y), t.y);
            t.z = fmaf(g.z, mish_grad(u.z), t.z); t.w = fmaf(g.w, mish_grad(u.w), t.w);
            store4(dx + r * dxStride + c, t);
        }
    } else {
        const i64 total = rows * cols;
        GRID_STRIDE(i, total) {
            const i64 r = i / cols, c = i - r * cols;
            dx[r * dxStride + c] = fmaf(dy[r * dyStride + c], mish_grad(x[r * xStride + c]), dx[r * dxStride + c]);
        }
    }
}

// ---- bf16 storage (layout-agnostic): float32 arithmetic, one rounding per stored element.

KERNEL void relu_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, i64 n) { map_unary8(y, x, n, ReluFwd()); }

KERNEL void relu_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ x, const bf16* __restrict__ dy, i64 n)
{
    update_binary8(dx, x, dy, n, ReluBwd());
}

KERNEL void mish_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, i64 n) { map_unary8(y, x, n, MishFwd()); }

KERNEL void mish_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ x, const bf16* __restrict__ dy, i64 n)
{
    update_binary8(dx, x, dy, n, MishBwd());
}

// Strided 2-D forms in bf16: NCHW (rows = N, cols = C*HW, strides in samples) and NHWC (rows =
// N*H*W, cols = C, strides in pixels: a channel slice of an NHWC concatenation) alike.
KERNEL void mish_fwd_2d_bf16(bf16* __restrict__ y, i64 yStride, const bf16* __restrict__ x, i64 xStride, int rows, i64 cols)
{
    const bool vec = aligned16(y) && aligned16(x) && ((yStride | xStride | cols) & 7) == 0;
    if (vec) {
        const i64 cols8 = cols >> 3, total = rows * cols8;
        GRID_STRIDE(i, total) {
            const i64 r = i / cols8, c = (i - r * cols8) << 3;
            f8 v = load8(x + r * xStride + c);
#pragma unroll
            for (int j = 0; j < 8; j++) v.v[j] = mish(v.v[j]);
            store8(y + r * yStride + c, v);
        }
    } else {
        const i64 total = rows * cols;
        GRID_STRIDE(i, total) {
            const i64 r = i / cols, c = i - r * cols;
            store_f(y + r * yStride + c, mish(load_f(x + r * xStride + c)));
        }
    }
}

KERNEL void mish_bwd_2d_bf16(bf16* __restrict__ dx, i64 dxStride, const bf16* __restrict__ x, i64 xStride,
                             const bf16* __restrict__ dy, i64 dyStride, int rows, i64 cols)
{
    const bool vec = aligned16(dx) && aligned16(x) && aligned16(dy) && ((dxStride | xStride | dyStride | cols) & 7) == 0;
    if (vec) {
        const i64 cols8 = cols >> 3, total = rows * cols8;
        GRID_STRIDE(i, total) {
            const i64 r = i / cols8, c = (i - r * cols8) << 3;
            const f8 u = load8(x + r * xStride + c), g = load8(dy + r * dyStride + c);
            f8 t = load8(dx + r * dxStride + c);
#pragma unroll
            for (int j = 0; j < 8; j++) t.v[j] = fmaf(g.v[j], mish_grad(u.v[j]), t.v[j]);
            store8(dx + r * dxStride + c, t);
        }
    } else {
        const i64 total = rows * cols;
        GRID_STRIDE(i, total) {
            const i64 r = i / cols, c = i - r * cols;
            store_f(dx + r * dxStride + c, fmaf(load_f(dy + r * dyStride + c), mish_grad(load_f(x + r * xStride + c)), load_f(dx + r * dxStride + c)));
        }
    }
}
