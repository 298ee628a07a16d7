// Concatenation along channels and the gradient split (ABI.md, "concat"). Both are strided
// 2-D copies: N rows of Cx*HW floats, at row stride Cy*HW and offset cOffset*HW in y. NHWC is the
// same copy with rows = pixels (N*H*W of them) and HW = 1: a per-pixel interleave.
#include "bf16.cuh"

template <bool Split>
__device__ __forceinline__ void channel_slice(float* __restrict__ small, float* __restrict__ big, int N, int Cx, i64 HW, int Cy, int cOffset)
{
    const i64 rowLen = (i64)Cx * HW, stride = (i64)Cy * HW;
    float* bigAt = big + (i64)cOffset * HW;
    if (aligned16(small) && aligned16(bigAt) && ((rowLen | stride) & 3) == 0) {
        const i64 row4 = rowLen >> 2, total = (i64)N * row4;
        GRID_STRIDE(i, total) {
            const i64 r = i / row4, c = (i - r * row4) << 2;
            float* s = small + r * rowLen + c;
            float* b = bigAt + r * stride + c;
            if (Split) {
                float4 acc = load4(s);
                const float4 g = load4(b);
                acc.x += g.x; acc.y += g.y; acc.z += g.z; acc.w += g.w;
                store4(s, acc);
            } else {
                store4(b, load4(s));
            }
        }
    } else {
        const i64 total = (i64)N * rowLen;
        GRID_STRIDE(i, total) {
            const i64 r = i / rowLen, c = i - r * rowLen;
            if (Split) small[r * rowLen + c] += bigAt[r * stride + c];
            else bigAt[r * stride + c] = small[r * rowLen + c];
        }
    }
}

KERNEL void concat_fwd_f32(float* __restrict__ y, const float* __restrict__ x, int N, int Cx, i64 HW, int Cy, int cOffset)
{
    channel_slice<false>(const_cast<float*>(x), y, N, Cx, HW, Cy, cOffset);
}

KERNEL void concat_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, int N, int Cx, i64 HW, int Cy, int cOffset)
{
    channel_slice<true>(dx, const_cast<float*>(dy), N, Cx, HW, Cy, cOffset);
}

// bf16: 16-byte vectors of 8 when both sides are aligned and the row length and stride are
// multiples of 8; the gradient split adds in fp32 and rounds once.
template <bool Split>
__device__ __forceinline__ void channel_slice_bf16(bf16* __restrict__ small, bf16* __restrict__ big, int N, int Cx, i64 HW, int Cy, int cOffset)
{
    const i64 rowLen = (i64)Cx * HW, stride = (i64)Cy * HW;
    bf16* bigAt = big + (i64)cOffset * HW;
    if (aligned16(small) && aligned16(bigAt) && ((rowLen | stride) & 7) == 0) {
        const i64 row8 = rowLen >> 3, total = (i64)N * row8;
        GRID_STRIDE(i, total) {
            const i64 r = i / row8, c = (i - r * row8) << 3;
            bf16* s = small + r * rowLen + c;
            bf16* b = bigAt + r * stride + c;
            if (Split) {
                f8 acc = load8(s);
                const f8 g = load8(b);
#pragma unroll
                for (int j = 0; j < 8; j++) acc.v[j] += g.v[j];
                store8(s, acc);
            } else {
                *reinterpret_cast<uint4*>(b) = *reinterpret_cast<const uint4*>(s);
            }
        }
    } else {
        const i64 total = (i64)N * rowLen;
        GRID_STRIDE(i, total) {
            const i64 r = i / rowLen, c = i - r * rowLen;
            if (Split) store_f(small + r * rowLen + c, load_f(small + r * rowLen + c) + load_f(bigAt + r * stride + c));
            else bigAt[r * stride + c] = small[r * rowLen + c];
        }
    }
}

KERNEL void concat_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int N, int Cx, i64 HW, int Cy, int cOffset)
{
    channel_slice_bf16<false>(const_cast<bf16*>(x), y, N, Cx, HW, Cy, cOffset);
}

KERNEL void concat_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, int N, int Cx, i64 HW, int Cy, int cOffset)
{
    channel_slice_bf16<true>(dx, const_cast<bf16*>(dy), N, Cx, HW, Cy, cOffset);
}
