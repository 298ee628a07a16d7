// Max pooling with int32 argmax, its backward as a deterministic gather, and max unpooling
// (ABI.md, "maxpool"). Semantics match engine/Ops/MaxPool.cs and MaxUnpool.cs.
#include "common.cuh"

struct PoolShape { int NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw; };

template <typename I>
__device__ __forceinline__ void maxpool_fwd(float* __restrict__ y, int* __restrict__ idx, const float* __restrict__ x, const PoolShape s)
{
    const I total = (I)s.NC * s.OH * s.OW;
    GRID_STRIDE_T(I, o, total) {
        const I t = o / s.OW;
        const int ow = (int)(o - t * s.OW);
        const int oh = (int)(t % s.OH);
        const I p = t / s.OH;
        const float* plane = x + p * (I)s.H * s.W;
        int h0 = oh * s.sh - s.ph, w0 = ow * s.sw - s.pw;
        const int h1 = min(h0 + s.kh, s.H), w1 = min(w0 + s.kw, s.W);
        h0 = max(h0, 0); w0 = max(w0, 0);
        float best = -INFINITY;
        int at = h0 * s.W + w0;
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) {
                const float v = plane[h * s.W + w];
                if (v > best || isnan(v)) { best = v; at = h * s.W + w; }
            }
        y[o] = best;
        idx[o] = at;
    }
}

template <typename I>
__device__ __forceinline__ void maxpool_bwd(float* __restrict__ dx, const float* __restrict__ dy, const int* __restrict__ idx, const PoolShape s)
{
    const I total = (I)s.NC * s.H * s.W;
    GRID_STRIDE_T(I, i, total) {
        const I t = i / s.W;
        const int w = (int)(i - t * s.W);
        const int h = (int)(t % s.H);
        const I p = t / s.H;
        int oh0, oh1, ow0, ow1;
        windows_containing(h, s.kh, s.sh, s.ph, s.OH, oh0, oh1);
        windows_containing(w, s.kw, s.sw, s.pw, s.OW, ow0, ow1);
        const I base = p * (I)s.OH * s.OW;
        const int at = h * s.W + w;
        float sum = 0.f;
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++) {
                const I o = base + oh * s.OW + ow;
                if (idx[o] == at) sum += dy[o];
            }
        dx[i] += sum;
    }
}

KERNEL void maxpool_fwd_f32(float* __restrict__ y, int* __restrict__ idx, const float* __restrict__ x,
                            int NC, int H, int W, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShape s{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)NC * max(H * W, OH * OW), [&](auto zero) { maxpool_fwd<decltype(zero)>(y, idx, x, s); });
}

KERNEL void maxpool_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, const int* __restrict__ idx,
                            int NC, int H, int W, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShape s{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)NC * max(H * W, OH * OW), [&](auto zero) { maxpool_bwd<decltype(zero)>(dx, dy, idx, s); });
}

// Scatter into a zero-filled y (the caller fills); out-of-range indices are skipped.
KERNEL void maxunpool_fwd_f32(float* __restrict__ y, const float* __restrict__ x, const int* __restrict__ idx,
                              int NC, int inPlane, int outPlane)
{
    DISPATCH_INDEX((i64)NC * max(inPlane, outPlane), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)NC * inPlane;
        GRID_STRIDE_T(I, i, total) {
            const int at = idx[i];
            if ((unsigned int)at < (unsigned int)outPlane) y[(i / inPlane) * (I)outPlane + at] = x[i];
        }
    });
}

KERNEL void maxunpool_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, const int* __restrict__ idx,
                              int NC, int inPlane, int outPlane)
{
    DISPATCH_INDEX((i64)NC * max(inPlane, outPlane), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)NC * inPlane;
        GRID_STRIDE_T(I, i, total) {
            const int at = idx[i];
            if ((unsigned int)at < (unsigned int)outPlane) dx[i] += dy[(i / inPlane) * (I)outPlane + at];
        }
    });
}
