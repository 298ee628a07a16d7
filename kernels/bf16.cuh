// bfloat16 storage for the kernels (ABI.md, "bf16"): loads widen to float32, every sum and
// intermediate is float32, stores round to nearest even exactly as Engine.Tensors.Bf16.Round
// (a NaN keeps its sign and upper payload with the quiet bit set). 16-byte vectors carry 8 bf16.
// No entry points here. The emulator (emulator/emu.h) supplies the same names for the CPU.
#pragma once
#include "common.cuh"
#ifndef KERNEL_EMULATION
#include <cuda_bf16.h>
#endif

typedef __nv_bfloat16 bf16;

// float32 -> bf16: the hardware's round to nearest even (cvt.rn.bf16.f32, which also turns
// values at or past half an ulp above bf16's largest finite value into infinity); a NaN is
// handled on the bits as Bf16.Round does instead of becoming the canonical NaN.
__device__ __forceinline__ bf16 to_bf16(float x)
{
    if (isnan(x)) return __ushort_as_bfloat16((unsigned short)((__float_as_uint(x) | 0x00400000u) >> 16));
    return __float2bfloat16_rn(x);
}

// Bits of a rounded value, for packing two into a 32-bit word.
__device__ __forceinline__ unsigned int bf16_bits(float x) { return __bfloat16_as_ushort(to_bf16(x)); }

// Loads widen, stores round: the same template body serves float and bf16 tensors.
__device__ __forceinline__ float load_f(const float* p) { return *p; }
__device__ __forceinline__ float load_f(const bf16* p) { return __uint_as_float((unsigned int)__bfloat16_as_ushort(*p) << 16); }
__device__ __forceinline__ void store_f(float* p, float v) { *p = v; }
__device__ __forceinline__ void store_f(bf16* p, float v) { *p = to_bf16(v); }

// 8 consecutive bf16 (16 bytes, p 16-byte aligned) <-> 8 floats.
struct f8 { float v[8]; };

__device__ __forceinline__ f8 load8(const bf16* p)
{
    const uint4 u = *reinterpret_cast<const uint4*>(p);
    const unsigned int w[4] = {u.x, u.y, u.z, u.w};
    f8 r;
#pragma unroll
    for (int j = 0; j < 4; j++) {
        r.v[2 * j] = __uint_as_float(w[j] << 16);               // the lower address is the low half
        r.v[2 * j + 1] = __uint_as_float(w[j] & 0xffff0000u);
    }
    return r;
}

__device__ __forceinline__ void store8(bf16* p, const f8& r)
{
    unsigned int w[4];
#pragma unroll
    for (int j = 0; j < 4; j++) w[j] = bf16_bits(r.v[2 * j]) | (bf16_bits(r.v[2 * j + 1]) << 16);
    uint4 u;
    u.x = w[0]; u.y = w[1]; u.z = w[2]; u.w = w[3];
    *reinterpret_cast<uint4*>(p) = u;
}

// 8 consecutive floats (p 16-byte aligned) as two float4.
__device__ __forceinline__ f8 load8(const float* p)
{
    const float4 a = load4(p), b = load4(p + 4);
    return f8{{a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w}};
}

__device__ __forceinline__ void store8(float* p, const f8& r)
{
    store4(p, make_float4(r.v[0], r.v[1], r.v[2], r.v[3]));
    store4(p + 4, make_float4(r.v[4], r.v[5], r.v[6], r.v[7]));
}

// ---- Elementwise maps over n contiguous elements of type T (float or bf16): 8 per thread and
// step (16-byte bf16 vectors) when every pointer is 16-byte aligned, the tail of n % 8 scalar;
// otherwise scalar. F works in float32.

// y[i] = f(a[i])
template <typename T, class F>
__device__ __forceinline__ void map_unary8(T* __restrict__ y, const T* __restrict__ a, i64 n, F f)
{
    if (aligned16(y) && aligned16(a)) {
        const i64 n8 = n >> 3;
        GRID_STRIDE(i, n8) {
            f8 v = load8(a + 8 * i);
#pragma unroll
            for (int j = 0; j < 8; j++) v.v[j] = f(v.v[j]);
            store8(y + 8 * i, v);
        }
        for (i64 i = (n8 << 3) + thread_index(); i < n; i += thread_count()) store_f(y + i, f(load_f(a + i)));
    } else {
        GRID_STRIDE(i, n) store_f(y + i, f(load_f(a + i)));
    }
}

// y[i] = f(a[i], b[i])
template <typename T, class F>
__device__ __forceinline__ void map_binary8(T* __restrict__ y, const T* __restrict__ a, const T* __restrict__ b, i64 n, F f)
{
    if (aligned16(y) && aligned16(a) && aligned16(b)) {
        const i64 n8 = n >> 3;
        GRID_STRIDE(i, n8) {
            f8 u = load8(a + 8 * i);
            const f8 v = load8(b + 8 * i);
#pragma unroll
            for (int j = 0; j < 8; j++) u.v[j] = f(u.v[j], v.v[j]);
            store8(y + 8 * i, u);
        }
        for (i64 i = (n8 << 3) + thread_index(); i < n; i += thread_count()) store_f(y + i, f(load_f(a + i), load_f(b + i)));
    } else {
        GRID_STRIDE(i, n) store_f(y + i, f(load_f(a + i), load_f(b + i)));
    }
}

// y[i] = f(y[i], a[i])
template <typename T, class F>
__device__ __forceinline__ void update_unary8(T* __restrict__ y, const T* __restrict__ a, i64 n, F f)
{
    if (aligned16(y) && aligned16(a)) {
        const i64 n8 = n >> 3;
        GRID_STRIDE(i, n8) {
            f8 t = load8(y + 8 * i);
            const f8 u = load8(a + 8 * i);
#pragma unroll
            for (int j = 0; j < 8; j++) t.v[j] = f(t.v[j], u.v[j]);
            store8(y + 8 * i, t);
        }
        for (i64 i = (n8 << 3) + thread_index(); i < n; i += thread_count()) store_f(y + i, f(load_f(y + i), load_f(a + i)));
    } else {
        GRID_STRIDE(i, n) store_f(y + i, f(load_f(y + i), load_f(a + i)));
    }
}

// y[i] = f(y[i], a[i], b[i]): accumulations such as dx += dy * g'(x), rounded once per element
template <typename T, class F>
__device__ __forceinline__ void update_binary8(T* __restrict__ y, const T* __restrict__ a, const T* __restrict__ b, i64 n, F f)
{
    if (aligned16(y) && aligned16(a) && aligned16(b)) {
        const i64 n8 = n >> 3;
        GRID_STRIDE(i, n8) {
            f8 t = load8(y + 8 * i);
            const f8 u = load8(a + 8 * i), v = load8(b + 8 * i);
#pragma unroll
            for (int j = 0; j < 8; j++) t.v[j] = f(t.v[j], u.v[j], v.v[j]);
            store8(y + 8 * i, t);
        }
        for (i64 i = (n8 << 3) + thread_index(); i < n; i += thread_count())
            store_f(y + i, f(load_f(y + i), load_f(a + i), load_f(b + i)));
    } else {
        GRID_STRIDE(i, n) store_f(y + i, f(load_f(y + i), load_f(a + i), load_f(b + i)));
    }
}
