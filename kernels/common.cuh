// Shared helpers for the kernels: index types, grid-stride loops, alignment tests, warp and
// block reductions, the dropout hash and stable math. No entry points here (see ABI.md).
#pragma once

#include <stdint.h>

typedef long long i64;
typedef unsigned long long u64;

#define KERNEL extern "C" __global__

// Global thread index and total thread count of a 1-D grid, in 64-bit.
__device__ __forceinline__ i64 thread_index() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ i64 thread_count() { return (i64)gridDim.x * blockDim.x; }

#define GRID_STRIDE(i, n) for (i64 i = thread_index(); i < (n); i += thread_count())

// One warp per item: warp index and warp count of the grid, and the lane.
__device__ __forceinline__ i64 warp_index() { return thread_index() >> 5; }
__device__ __forceinline__ i64 warp_count() { return thread_count() >> 5; }
__device__ __forceinline__ int lane_id() { return threadIdx.x & 31; }

__device__ __forceinline__ bool aligned16(const void* p) { return ((uintptr_t)p & 15) == 0; }

#ifndef KERNEL_EMULATION
// The launch's dynamic shared memory (sharedBytes of cuLaunchKernel), as T.
template <typename T>
__device__ __forceinline__ T* dynamic_shared()
{
    extern __shared__ __align__(16) unsigned char dynamic_smem[];
    return reinterpret_cast<T*>(dynamic_smem);
}
#endif

__device__ __forceinline__ float4 load4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ void store4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }

// Butterfly sums/maxima: every lane ends with the result.
__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ double warp_sum(double v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ long long warp_sum(long long v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. Contains __syncthreads, so every thread of the block must call it. Safe to call
// repeatedly: the trailing barrier protects the shared scratch.
template <typename T>
__device__ __forceinline__ T block_sum(T v)
{
    __shared__ T partial[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    T r = lane < warps ? partial[lane] : T(0);
    r = warp_sum(r);
    __syncthreads();
    return r;
}

// log(sum_k exp(x[k * stride])) over K classes in one pass (online max and sum of exponentials).
template <typename I>
__device__ __forceinline__ float log_sum_exp(const float* x, int K, I stride)
{
    float m = -INFINITY, s = 0.f;
    for (int k = 0; k < K; k++) {
        const float v = x[(I)k * stride];
        if (v > m) { s = s * expf(m - v) + 1.f; m = v; }
        else s += expf(v - m);
    }
    return m + logf(s);
}

// A label the softmax losses count: in [0, K).
__device__ __forceinline__ bool label_in_range(int label, int K) { return (unsigned int)label < (unsigned int)K; }

// SplitMix64's finaliser, identical to Engine.Tensors.Rng.Mix.
__device__ __forceinline__ u64 splitmix_mix(u64 z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The 24-bit integer behind Rng.HashUniform(seed, stream, index) = hash24 / 2^24.
__device__ __forceinline__ unsigned int hash24(u64 seed, u64 streamMixed, u64 index)
{
    return (unsigned int)(splitmix_mix(seed ^ streamMixed ^ (index * 0x9E3779B97F4A7C15ull)) >> 40);
}

__device__ __forceinline__ u64 mix_stream(u64 stream) { return splitmix_mix(stream + 0x632BE59BD9B4E019ull); }

// softplus with the threshold at 20, beyond which log1p(exp(x)) == x in float32.
__device__ __forceinline__ float softplus(float x) { return x > 20.f ? x : log1pf(expf(x)); }

// y = x * tanh(softplus(x)); the formula of engine/Ops/Mish.cs.
__device__ __forceinline__ float mish(float x) { return x * tanhf(softplus(x)); }

// dy/dx = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2); sigmoid underflows to 0, never NaN.
__device__ __forceinline__ float mish_grad(float x)
{
    const float t = tanhf(softplus(x));
    const float sigmoid = 1.f / (1.f + expf(-x));
    return t + x * sigmoid * (1.f - t * t);
}

// First index of [0, count) at which a window starting at `start` (possibly negative) with
// `size` elements and a stride covers position p: the windows containing p are
// [first, last] with first = ceil((p + pad - size + 1) / stride), last = floor((p + pad) / stride).
__device__ __forceinline__ void windows_containing(int p, int size, int stride, int pad, int count, int& first, int& last)
{
    int hi = p + pad;                 // window o starts at o*stride - pad <= p
    int lo = hi - size + 1;           // and ends after p: o*stride - pad + size > p
    first = lo <= 0 ? 0 : (lo + stride - 1) / stride;
    last = min(hi / stride, count - 1);
}

// ---- Elementwise maps over n contiguous floats: float4 when every pointer is 16-byte
// aligned (the tail of n % 4 elements scalar), else scalar. F is a functor.

// y[i] = f(a[i])
template <class F>
__device__ __forceinline__ void map_unary(float* __restrict__ y, const float* __restrict__ a, i64 n, F f)
{
    if (aligned16(y) && aligned16(a)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 v = load4(a + 4 * i);
            v.x = f(v.x); v.y = f(v.y); v.z = f(v.z); v.w = f(v.w);
            store4(y + 4 * i, v);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) y[i] = f(a[i]);
    } else {
        GRID_STRIDE(i, n) y[i] = f(a[i]);
    }
}

// y[i] = f(a[i], b[i])
template <class F>
__device__ __forceinline__ void map_binary(float* __restrict__ y, const float* __restrict__ a, const float* __restrict__ b, i64 n, F f)
{
    if (aligned16(y) && aligned16(a) && aligned16(b)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 u = load4(a + 4 * i), v = load4(b + 4 * i);
            float4 r = make_float4(f(u.x, v.x), f(u.y, v.y), f(u.z, v.z), f(u.w, v.w));
            store4(y + 4 * i, r);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) y[i] = f(a[i], b[i]);
    } else {
        GRID_STRIDE(i, n) y[i] = f(a[i], b[i]);
    }
}

// y[i] = f(y[i], a[i]): accumulations such as dx += g(dy)
template <class F>
__device__ __forceinline__ void update_unary(float* __restrict__ y, const float* __restrict__ a, i64 n, F f)
{
    if (aligned16(y) && aligned16(a)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 t = load4(y + 4 * i), u = load4(a + 4 * i);
            t.x = f(t.x, u.x); t.y = f(t.y, u.y); t.z = f(t.z, u.z); t.w = f(t.w, u.w);
            store4(y + 4 * i, t);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) y[i] = f(y[i], a[i]);
    } else {
        GRID_STRIDE(i, n) y[i] = f(y[i], a[i]);
    }
}

// y[i] = f(y[i], a[i], b[i]): accumulations such as dx += dy * g'(x)
template <class F>
__device__ __forceinline__ void update_binary(float* __restrict__ y, const float* __restrict__ a, const float* __restrict__ b, i64 n, F f)
{
    if (aligned16(y) && aligned16(a) && aligned16(b)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 t = load4(y + 4 * i), u = load4(a + 4 * i), v = load4(b + 4 * i);
            t.x = f(t.x, u.x, v.x); t.y = f(t.y, u.y, v.y); t.z = f(t.z, u.z, v.z); t.w = f(t.w, u.w, v.w);
            store4(y + 4 * i, t);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) y[i] = f(y[i], a[i], b[i]);
    } else {
        GRID_STRIDE(i, n) y[i] = f(y[i], a[i], b[i]);
    }
}

// Index arithmetic in 32 bits when every index the kernel forms fits (pass the largest
// tensor's size as `total`; 32-bit divisions are far cheaper), else in 64 bits. `body` is a
// generic lambda whose argument's type is the index type.
// (KERNEL_FORCE_INDEX64 takes the 64-bit path always: the emulator tests it on small tensors.)
#ifdef KERNEL_FORCE_INDEX64
#define INDEX32_LIMIT ((i64)-1)
#else
#define INDEX32_LIMIT ((i64)0x7fffffff)
#endif
#define DISPATCH_INDEX(total, ...)                                                   \
    do {                                                                             \
        auto body_ = __VA_ARGS__;                                                    \
        if ((total) <= INDEX32_LIMIT) body_((unsigned int)0); else body_((i64)0);     \
    } while (0)

// Grid-stride loop over [0, total) in the index type I (unsigned int or i64). With 32-bit
// indices the stride is added in 64 bits so the loop cannot wrap.
#define GRID_STRIDE_T(I, i, total)                                                   \
    for (i64 i##_wide = thread_index(); i##_wide < (i64)(total); i##_wide += thread_count()) \
        if (const I i = (I)i##_wide; true)
