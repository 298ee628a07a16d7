// Inverted dropout whose mask is Rng.HashUniform of (seed, stream, index), recomputed in
// backward instead of stored (ABI.md, "dropout"). The step is read from device memory, so that a
// captured training step draws a new mask at each replay. float32 and bf16 (the mask depends
// only on the element index, so it is the same for either type).
#include "bf16.cuh"

template <bool Accumulate>
__device__ __forceinline__ void dropout(float* __restrict__ y, const float* __restrict__ x, u64 seed, u64 stream,
                                        u64 indexBase, unsigned int threshold, float scale, i64 n)
{
    const u64 mixed = mix_stream(stream);
    auto apply = [&](float out, float in, i64 i) {
        const float kept = hash24(seed, mixed, indexBase + (u64)i) >= threshold ? in * scale : 0.f;
        return Accumulate ? out + kept : kept;
    };
    if (aligned16(y) && aligned16(x)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            const float4 v = load4(x + 4 * i);
            float4 r = Accumulate ? load4(y + 4 * i) : make_float4(0.f, 0.f, 0.f, 0.f);
            r.x = apply(r.x, v.x, 4 * i); r.y = apply(r.y, v.y, 4 * i + 1);
            r.z = apply(r.z, v.z, 4 * i + 2); r.w = apply(r.w, v.w, 4 * i + 3);
            store4(y + 4 * i, r);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) y[i] = apply(Accumulate ? y[i] : 0.f, x[i], i);
    } else {
        GRID_STRIDE(i, n) y[i] = apply(Accumulate ? y[i] : 0.f, x[i], i);
    }
}

KERNEL void dropout_fwd_f32(float* __restrict__ y, const float* __restrict__ x, u64 seed, u64 node, const i64* __restrict__ step,
                            u64 indexBase, unsigned int threshold, float scale, i64 n)
{
    dropout<false>(y, x, seed, (node << 32) + (u64)*step, indexBase, threshold, scale, n);
}

KERNEL void dropout_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, u64 seed, u64 node, const i64* __restrict__ step,
                            u64 indexBase, unsigned int threshold, float scale, i64 n)
{
    dropout<true>(dx, dy, seed, (node << 32) + (u64)*step, indexBase, threshold, scale, n);
}

// bf16: 8 elements per step when both pointers are 16-byte aligned; y = round(kept) (forward) or
// round(y + kept) (backward), kept in fp32.
template <bool Accumulate>
__device__ __forceinline__ void dropout_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, u64 seed, u64 stream,
                                             u64 indexBase, unsigned int threshold, float scale, i64 n)
{
    const u64 mixed = mix_stream(stream);
    auto apply = [&](float out, float in, i64 i) {
        const float kept = hash24(seed, mixed, indexBase + (u64)i) >= threshold ? in * scale : 0.f;
        return Accumulate ? out + kept : kept;
    };
    if (aligned16(y) && aligned16(x)) {
        const i64 n8 = n >> 3;
        GRID_STRIDE(i, n8) {
            const f8 v = load8(x + 8 * i);
            f8 r = Accumulate ? load8(y + 8 * i) : f8{{0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}};
#pragma unroll
            for (int j = 0; j < 8; j++) r.v[j] = apply(r.v[j], v.v[j], 8 * i + j);
            store8(y + 8 * i, r);
        }
        for (i64 i = (n8 << 3) + thread_index(); i < n; i += thread_count())
            store_f(y + i, apply(Accumulate ? load_f(y + i) : 0.f, load_f(x + i), i));
    } else {
        GRID_STRIDE(i, n) store_f(y + i, apply(Accumulate ? load_f(y + i) : 0.f, load_f(x + i), i));
    }
}

KERNEL void dropout_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, u64 seed, u64 node, const i64* __restrict__ step,
                             u64 indexBase, unsigned int threshold, float scale, i64 n)
{
    dropout_bf16<false>(y, x, seed, (node << 32) + (u64)*step, indexBase, threshold, scale, n);
}

KERNEL void dropout_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, u64 seed, u64 node, const i64* __restrict__ step,
                             u64 indexBase, unsigned int threshold, float scale, i64 n)
{
    dropout_bf16<true>(dx, dy, seed, (node << 32) + (u64)*step, indexBase, threshold, scale, n);
}
