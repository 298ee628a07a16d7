// Fill, scale, add and accumulate over contiguous float32 buffers, add and accumulate over bf16
// ones (ABI.md, "elementwise").
#include "bf16.cuh"

struct Add { __device__ float operator()(float a, float b) const { return a + b; } };
struct Axpy {
    float alpha;
    __device__ float operator()(float y, float x) const { return fmaf(alpha, x, y); }
};

KERNEL void fill_f32(float* __restrict__ y, float value, i64 n)
{
    if (aligned16(y)) {
        const i64 n4 = n >> 2;
        const float4 v = make_float4(value, value, value, value);
        GRID_STRIDE(i, n4) store4(y + 4 * i, v);
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) y[i] = value;
    } else {
        GRID_STRIDE(i, n) y[i] = value;
    }
}

KERNEL void scale_f32(float* __restrict__ y, float alpha, i64 n)
{
    if (aligned16(y)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 v = load4(y + 4 * i);
            v.x *= alpha; v.y *= alpha; v.z *= alpha; v.w *= alpha;
            store4(y + 4 * i, v);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) y[i] *= alpha;
    } else {
        GRID_STRIDE(i, n) y[i] *= alpha;
    }
}

KERNEL void add_f32(float* __restrict__ y, const float* __restrict__ a, const float* __restrict__ b, i64 n)
{
    map_binary(y, a, b, n, Add());
}

KERNEL void axpy_f32(float* __restrict__ y, const float* __restrict__ x, float alpha, i64 n)
{
    update_unary(y, x, n, Axpy{alpha});
}

KERNEL void add_bf16(bf16* __restrict__ y, const bf16* __restrict__ a, const bf16* __restrict__ b, i64 n)
{
    map_binary8(y, a, b, n, Add());
}

KERNEL void axpy_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, float alpha, i64 n)
{
    update_unary8(y, x, n, Axpy{alpha});
}
