// float32 <-> bfloat16 copies (ABI.md, "convert"): the bf16 copy of an fp32 master weight or
// input, rounded exactly as Engine.Tensors.Bf16.Round, and the exact widening back.
#include "bf16.cuh"

// Elementwise conversion from S to D: 8 elements per step when both pointers are 16-byte aligned.
template <typename D, typename S>
__device__ __forceinline__ void convert(D* __restrict__ y, const S* __restrict__ x, i64 n)
{
    if (aligned16(y) && aligned16(x)) {
        const i64 n8 = n >> 3;
        GRID_STRIDE(i, n8) store8(y + 8 * i, load8(x + 8 * i));
        for (i64 i = (n8 << 3) + thread_index(); i < n; i += thread_count()) store_f(y + i, load_f(x + i));
    } else {
        GRID_STRIDE(i, n) store_f(y + i, load_f(x + i));
    }
}

KERNEL void f32_to_bf16(bf16* __restrict__ y, const float* __restrict__ x, i64 n) { convert(y, x, n); }

KERNEL void bf16_to_f32(float* __restrict__ y, const bf16* __restrict__ x, i64 n) { convert(y, x, n); }

// y (fp32) += x (bf16): a bf16 gradient accumulated into an fp32 buffer (parameter gradients).
KERNEL void add_bf16_to_f32(float* __restrict__ y, const bf16* __restrict__ x, i64 n)
{
    if (aligned16(y) && aligned16(x)) {
        const i64 n8 = n >> 3;
        GRID_STRIDE(i, n8) {
            f8 t = load8(y + 8 * i);
            const f8 u = load8(x + 8 * i);
#pragma unroll
            for (int j = 0; j < 8; j++) t.v[j] += u.v[j];
            store8(y + 8 * i, t);
        }
        for (i64 i = (n8 << 3) + thread_index(); i < n; i += thread_count()) y[i] += load_f(x + i);
    } else {
        GRID_STRIDE(i, n) y[i] += load_f(x + i);
    }
}
