// Average pooling (PyTorch divisor rules), its backward as a gather, and global average
// pooling (ABI.md, "avgpool"). Semantics match engine/Ops/AvgPool.cs and GlobalAvgPool.cs.
// float32 and bf16 (sums fp32, one rounding per stored element), NCHW and NHWC.
#include "bf16.cuh"

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

// ---- bf16 NCHW and NHWC forms. NHWC: x [N, H, W, C], y [N, OH, OW, C], channel fastest; the
// same windows and divisors, one thread per element.

template <typename T>
__device__ __forceinline__ void avgpool_fwd_t(T* __restrict__ y, const T* __restrict__ x, int N, int C, const PoolShape s, bool nhwc)
{
    DISPATCH_INDEX((i64)N * C * max(s.H * s.W, s.OH * s.OW), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * C * s.OH * s.OW;
        GRID_STRIDE_T(I, o, total) {
            int c = 0;
            I t = o;
            if (nhwc) { t = o / C; c = (int)(o - t * C); }   // t: output pixel (NHWC) or (plane, pixel) (NCHW)
            const I u = t / s.OW;
            const int ow = (int)(t - u * s.OW), oh = (int)(u % s.OH);
            const I image = (u / s.OH) * (I)s.H * s.W;        // first pixel of the plane / sample
            const Window win = window_of(oh, ow, s);
            float sum = 0.f;
            for (int h = win.h0; h < win.h1; h++)
                for (int w = win.w0; w < win.w1; w++) {
                    const I at = image + h * s.W + w;
                    sum += load_f(x + (nhwc ? at * C + c : at));
                }
            store_f(y + o, sum / (float)win.divisor);
        }
    });
}

template <typename T>
__device__ __forceinline__ void avgpool_bwd_t(T* __restrict__ dx, const T* __restrict__ dy, int N, int C, const PoolShape s, bool nhwc)
{
    DISPATCH_INDEX((i64)N * C * max(s.H * s.W, s.OH * s.OW), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * C * s.H * s.W;
        GRID_STRIDE_T(I, i, total) {
            int c = 0;
            I t = i;
            if (nhwc) { t = i / C; c = (int)(i - t * C); }
            const I u = t / s.W;
            const int w = (int)(t - u * s.W), h = (int)(u % s.H);
            const I image = (u / s.H) * (I)s.OH * s.OW;
            int oh0, oh1, ow0, ow1;
            windows_containing(h, s.kh, s.sh, s.ph, s.OH, oh0, oh1);
            windows_containing(w, s.kw, s.sw, s.pw, s.OW, ow0, ow1);
            float sum = 0.f;
            for (int oh = oh0; oh <= oh1; oh++)
                for (int ow = ow0; ow <= ow1; ow++) {
                    const I at = image + oh * s.OW + ow;
                    sum += load_f(dy + (nhwc ? at * C + c : at)) / (float)window_of(oh, ow, s).divisor;
                }
            store_f(dx + i, load_f(dx + i) + sum);
        }
    });
}

KERNEL void avgpool_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int NC, int H, int W, int OH, int OW,
                             int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad)
{
    avgpool_fwd_t(y, x, NC, 1, PoolShape{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad}, false);
}

KERNEL void avgpool_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, int NC, int H, int W, int OH, int OW,
                             int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad)
{
    avgpool_bwd_t(dx, dy, NC, 1, PoolShape{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad}, false);
}

KERNEL void avgpool_fwd_nhwc_f32(float* __restrict__ y, const float* __restrict__ x, int N, int H, int W, int C, int OH, int OW,
                                 int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad)
{
    avgpool_fwd_t(y, x, N, C, PoolShape{N, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad}, true);
}

KERNEL void avgpool_bwd_nhwc_f32(float* __restrict__ dx, const float* __restrict__ dy, int N, int H, int W, int C, int OH, int OW,
                                 int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad)
{
    avgpool_bwd_t(dx, dy, N, C, PoolShape{N, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad}, true);
}

KERNEL void avgpool_fwd_nhwc_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int N, int H, int W, int C, int OH, int OW,
                                  int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad)
{
    avgpool_fwd_t(y, x, N, C, PoolShape{N, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad}, true);
}

KERNEL void avgpool_bwd_nhwc_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, int N, int H, int W, int C, int OH, int OW,
                                  int kh, int kw, int sh, int sw, int ph, int pw, int countIncludePad)
{
    avgpool_bwd_t(dx, dy, N, C, PoolShape{N, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad}, true);
}

// Global average pooling in bf16 NCHW: one warp per plane, as the float32 kernel.
KERNEL void global_avgpool_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int NC, int HW)
{
    const float count = (float)HW;
    for (i64 p = warp_index(); p < NC; p += warp_count()) {
        const bf16* plane = x + p * HW;
        float s = 0.f;
        for (int j = lane_id(); j < HW; j += 32) s += load_f(plane + j);
        s = warp_sum(s);
        if (lane_id() == 0) store_f(y + p, s / count);
    }
}

KERNEL void global_avgpool_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, int NC, int HW)
{
    const float count = (float)HW;
    DISPATCH_INDEX((i64)NC * HW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)NC * HW;
        GRID_STRIDE_T(I, i, total) store_f(dx + i, load_f(dx + i) + load_f(dy + i / HW) / count);
    });
}

// Global average pooling in NHWC: y [N, C]; one thread per (n, c) walks the HW pixels at stride
// C (consecutive threads, consecutive channels: coalesced).
template <typename T>
__device__ __forceinline__ void global_avgpool_fwd_nhwc(T* __restrict__ y, const T* __restrict__ x, int N, int C, int HW)
{
    const float count = (float)HW;
    GRID_STRIDE(i, (i64)N * C) {
        const i64 n = i / C;
        const T* at = x + n * HW * C + (i - n * C);
        float s = 0.f;
        for (int p = 0; p < HW; p++) s += load_f(at + (i64)p * C);
        store_f(y + i, s / count);
    }
}

template <typename T>
__device__ __forceinline__ void global_avgpool_bwd_nhwc(T* __restrict__ dx, const T* __restrict__ dy, int N, int C, int HW)
{
    const float count = (float)HW;
    DISPATCH_INDEX((i64)N * HW * C, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * HW * C;
        GRID_STRIDE_T(I, i, total) {
            const I c = i % C, n = i / ((I)HW * C);
            store_f(dx + i, load_f(dx + i) + load_f(dy + n * C + c) / count);
        }
    });
}

KERNEL void global_avgpool_fwd_nhwc_f32(float* __restrict__ y, const float* __restrict__ x, int N, int C, int HW)
{
    global_avgpool_fwd_nhwc(y, x, N, C, HW);
}

KERNEL void global_avgpool_bwd_nhwc_f32(float* __restrict__ dx, const float* __restrict__ dy, int N, int C, int HW)
{
    global_avgpool_bwd_nhwc(dx, dy, N, C, HW);
}

KERNEL void global_avgpool_fwd_nhwc_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int N, int C, int HW)
{
    global_avgpool_fwd_nhwc(y, x, N, C, HW);
}

KERNEL void global_avgpool_bwd_nhwc_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, int N, int C, int HW)
{
    global_avgpool_bwd_nhwc(dx, dy, N, C, HW);
}
