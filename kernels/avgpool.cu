// Average pooling (PyTorch divisor rules), its backward as a gather, and global average
// pooling (ABI.md, "avgpool"). Semantics match engine/Ops/AvgPool.cs and GlobalAvgPool.cs.
#include "common.cuh"

struct PoolShape { int NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad; };

// Window of output (oh, ow) clipped to the input, and its divisor.
struct Window { int h0, h1, w0, w1, divisor; };

__device__ __forceinline__ Window window_of(int oh, int ow, const PoolShape& s)
{
    int h0 = oh * s.sh - s.ph, w0 = ow * s.sw - s.pw;
    int h1 = min(h0 + s.kh, s.H + s.ph), w1 = min(w0 + s.kw, s.W + s.pw);
    const int padded = (h1 - h0) * (w1 - w0);
    h0 = max(h0, 0); w0 = max(w0, 0);
    h1 = min(h1, s.H); w1 = min(w1, s.W);
    return Window{h0, h1, w0, w1, s.countIncludePad ? padded : (h1 - h0) * (w1 - w0)};
}

KERNEL void avgpool_fwd_f32(float* __restrict__ y, const float* __restrict__ x, int NC, int H, int W, int OH, int OW,
                            int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad)
{
    const PoolShape s{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad};
    DISPATCH_INDEX((i64)NC * max(H * W, OH * OW), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)s.NC * s.OH * s.OW;
        GRID_STRIDE_T(I, o, total) {
            const I t = o / s.OW;
            const int ow = (int)(o - t * s.OW), oh = (int)(t % s.OH);
            const float* plane = x + (t / s.OH) * (I)s.H * s.W;
            const Window win = window_of(oh, ow, s);
            float sum = 0.f;
            for (int h = win.h0; h < win.h1; h++)
                for (int w = win.w0; w < win.w1; w++) sum += plane[h * s.W + w];
            y[o] = sum / (float)win.divisor;
        }
    });
}

KERNEL void avgpool_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, int NC, int H, int W, int OH, int OW,
                            int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad)
{
    const PoolShape s{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad};
    DISPATCH_INDEX((i64)NC * max(H * W, OH * OW), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)s.NC * s.H * s.W;
        GRID_STRIDE_T(I, i, total) {
            const I t = i / s.W;
            const int w = (int)(i - t * s.W), h = (int)(t % s.H);
            const float* plane = dy + (t / s.H) * (I)s.OH * s.OW;
            int oh0, oh1, ow0, ow1;
            windows_containing(h, s.kh, s.sh, s.ph, s.OH, oh0, oh1);
            windows_containing(w, s.kw, s.sw, s.pw, s.OW, ow0, ow1);
            float sum = 0.f;
            for (int oh = oh0; oh <= oh1; oh++)
                for (int ow = ow0; ow <= ow1; ow++)
                    sum += plane[oh * s.OW + ow] / (float)window_of(oh, ow, s).divisor;
            dx[i] += sum;
        }
    });
}

// One warp per plane.
KERNEL void global_avgpool_fwd_f32(float* __restrict__ y, const float* __restrict__ x, int NC, int HW)
{
    const float count = (float)HW;
    for (i64 p = warp_index(); p < NC; p += warp_count()) {
        const float* plane = x + p * HW;
        float s = 0.f;
        for (int j = lane_id(); j < HW; j += 32) s += plane[j];
        s = warp_sum(s);
        if (lane_id() == 0) y[p] = s / count;
    }
}

KERNEL void global_avgpool_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, int NC, int HW)
{
    const float count = (float)HW;
    DISPATCH_INDEX((i64)NC * HW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)NC * HW;
        GRID_STRIDE_T(I, i, total) dx[i] += dy[i / HW] / count;
    });
}
