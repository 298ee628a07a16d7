// Max pooling with int32 argmax, its backward as a deterministic gather, and max unpooling
// (ABI.md, "maxpool"). Semantics match engine/Ops/MaxPool.cs and MaxUnpool.cs. float32 and bf16
// (a maximum is exact; the gradient sum is fp32, rounded once), NCHW and NHWC.
#include "bf16.cuh"

struct PoolShape { int NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw; };

template <typename I, typename T>
__device__ __forceinline__ void maxpool_fwd(T* __restrict__ y, int* __restrict__ idx, const T* __restrict__ x, const PoolShape s)
{
    const I total = (I)s.NC * s.OH * s.OW;
    GRID_STRIDE_T(I, o, total) {
        const I t = o / s.OW;
        const int ow = (int)(o - t * s.OW);
        const int oh = (int)(t % s.OH);
        const I p = t / s.OH;
        const T* plane = x + p * (I)s.H * s.W;
        int h0 = oh * s.sh - s.ph, w0 = ow * s.sw - s.pw;
        const int h1 = min(h0 + s.kh, s.H), w1 = min(w0 + s.kw, s.W);
        h0 = max(h0, 0); w0 = max(w0, 0);
        float best = -INFINITY;
        int at = h0 * s.W + w0;
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) {
                const float v = load_f(plane + h * s.W + w);
                if (v > best || isnan(v)) { best = v; at = h * s.W + w; }
            }
        store_f(y + o, best);
        idx[o] = at;
    }
}

template <typename I, typename T>
__device__ __forceinline__ void maxpool_bwd(T* __restrict__ dx, const T* __restrict__ dy, const int* __restrict__ idx, const PoolShape s)
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
                if (idx[o] == at) sum += load_f(dy + o);
            }
        store_f(dx + i, load_f(dx + i) + sum);
    }
}

KERNEL void maxpool_fwd_f32(float* __restrict__ y, int* __restrict__ idx, const float* __restrict__ x,
                            int NC, int H, int W, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShape s{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)NC * max(H * W, OH * OW), [&](auto zero) { maxpool_fwd<decltype(zero), float>(y, idx, x, s); });
}

KERNEL void maxpool_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, const int* __restrict__ idx,
                            int NC, int H, int W, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShape s{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)NC * max(H * W, OH * OW), [&](auto zero) { maxpool_bwd<decltype(zero), float>(dx, dy, idx, s); });
}

KERNEL void maxpool_fwd_bf16(bf16* __restrict__ y, int* __restrict__ idx, const bf16* __restrict__ x,
                             int NC, int H, int W, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShape s{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)NC * max(H * W, OH * OW), [&](auto zero) { maxpool_fwd<decltype(zero), bf16>(y, idx, x, s); });
}

KERNEL void maxpool_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, const int* __restrict__ idx,
                             int NC, int H, int W, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShape s{NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)NC * max(H * W, OH * OW), [&](auto zero) { maxpool_bwd<decltype(zero), bf16>(dx, dy, idx, s); });
}

// ---- NHWC: x [N, H, W, C], y and idx [N, OH, OW, C]; one thread per element, channel fastest
// (consecutive threads read consecutive channels). idx is h*W + w within the (n, c) plane, as NCHW.
struct PoolShapeNhwc { int N, H, W, C, OH, OW, kh, kw, sh, sw, ph, pw; };

template <typename I, typename T>
__device__ __forceinline__ void maxpool_fwd_nhwc(T* __restrict__ y, int* __restrict__ idx, const T* __restrict__ x, const PoolShapeNhwc s)
{
    const I total = (I)s.N * s.OH * s.OW * s.C;
    GRID_STRIDE_T(I, o, total) {
        const I t = o / s.C;                       // output pixel
        const int c = (int)(o - t * s.C);
        const I u = t / s.OW;
        const int ow = (int)(t - u * s.OW), oh = (int)(u % s.OH);
        const T* image = x + (u / s.OH) * (I)s.H * s.W * s.C + c;
        int h0 = oh * s.sh - s.ph, w0 = ow * s.sw - s.pw;
        const int h1 = min(h0 + s.kh, s.H), w1 = min(w0 + s.kw, s.W);
        h0 = max(h0, 0); w0 = max(w0, 0);
        float best = -INFINITY;
        int at = h0 * s.W + w0;
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) {
                const float v = load_f(image + (I)(h * s.W + w) * s.C);
                if (v > best || isnan(v)) { best = v; at = h * s.W + w; }
            }
        store_f(y + o, best);
        idx[o] = at;
    }
}

template <typename I, typename T>
__device__ __forceinline__ void maxpool_bwd_nhwc(T* __restrict__ dx, const T* __restrict__ dy, const int* __restrict__ idx, const PoolShapeNhwc s)
{
    const I total = (I)s.N * s.H * s.W * s.C;
    GRID_STRIDE_T(I, i, total) {
        const I t = i / s.C;                       // input pixel
        const int c = (int)(i - t * s.C);
        const I u = t / s.W;
        const int w = (int)(t - u * s.W), h = (int)(u % s.H);
        const I base = (u / s.H) * (I)s.OH * s.OW;  // the sample's first output pixel
        int oh0, oh1, ow0, ow1;
        windows_containing(h, s.kh, s.sh, s.ph, s.OH, oh0, oh1);
        windows_containing(w, s.kw, s.sw, s.pw, s.OW, ow0, ow1);
        const int at = h * s.W + w;
        float sum = 0.f;
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++) {
                const I o = (base + oh * s.OW + ow) * (I)s.C + c;
                if (idx[o] == at) sum += load_f(dy + o);
            }
        store_f(dx + i, load_f(dx + i) + sum);
    }
}

// 8 channels per thread (16-byte bf16 vectors, two float4 for fp32; idx as two int4) when C is a
// multiple of 8 and x, y, idx (dx, dy, idx) are 16-byte aligned.
__device__ __forceinline__ void load_idx8(const int* p, int (&a)[8])
{
    const int4 u = *reinterpret_cast<const int4*>(p), v = *reinterpret_cast<const int4*>(p + 4);
    a[0] = u.x; a[1] = u.y; a[2] = u.z; a[3] = u.w; a[4] = v.x; a[5] = v.y; a[6] = v.z; a[7] = v.w;
}

template <typename I, typename T>
__device__ __forceinline__ void maxpool_fwd_nhwc8(T* __restrict__ y, int* __restrict__ idx, const T* __restrict__ x, const PoolShapeNhwc s)
{
    const int C8 = s.C >> 3;
    const I total = (I)s.N * s.OH * s.OW * C8;
    GRID_STRIDE_T(I, o, total) {
        const I t = o / C8;                        // output pixel
        const int c0 = (int)(o - t * C8) << 3;
        const I u = t / s.OW;
        const int ow = (int)(t - u * s.OW), oh = (int)(u % s.OH);
        const T* image = x + (u / s.OH) * (I)s.H * s.W * s.C + c0;
        int h0 = oh * s.sh - s.ph, w0 = ow * s.sw - s.pw;
        const int h1 = min(h0 + s.kh, s.H), w1 = min(w0 + s.kw, s.W);
        h0 = max(h0, 0); w0 = max(w0, 0);
        f8 best;
        int at[8];
#pragma unroll
        for (int j = 0; j < 8; j++) { best.v[j] = -INFINITY; at[j] = h0 * s.W + w0; }
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) {
                const f8 v = load8(image + (I)(h * s.W + w) * s.C);
#pragma unroll
                for (int j = 0; j < 8; j++)
                    if (v.v[j] > best.v[j] || isnan(v.v[j])) { best.v[j] = v.v[j]; at[j] = h * s.W + w; }
            }
        store8(y + t * s.C + c0, best);
        int4 a, b;
        a.x = at[0]; a.y = at[1]; a.z = at[2]; a.w = at[3]; b.x = at[4]; b.y = at[5]; b.z = at[6]; b.w = at[7];
        *reinterpret_cast<int4*>(idx + t * s.C + c0) = a;
        *reinterpret_cast<int4*>(idx + t * s.C + c0 + 4) = b;
    }
}

template <typename I, typename T>
__device__ __forceinline__ void maxpool_bwd_nhwc8(T* __restrict__ dx, const T* __restrict__ dy, const int* __restrict__ idx, const PoolShapeNhwc s)
{
    const int C8 = s.C >> 3;
    const I total = (I)s.N * s.H * s.W * C8;
    GRID_STRIDE_T(I, i, total) {
        const I t = i / C8;                        // input pixel
        const int c0 = (int)(i - t * C8) << 3;
        const I u = t / s.W;
        const int w = (int)(t - u * s.W), h = (int)(u % s.H);
        const I base = (u / s.H) * (I)s.OH * s.OW;
        int oh0, oh1, ow0, ow1;
        windows_containing(h, s.kh, s.sh, s.ph, s.OH, oh0, oh1);
        windows_containing(w, s.kw, s.sw, s.pw, s.OW, ow0, ow1);
        const int at = h * s.W + w;
        float sum[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++) {
                const I o = (base + oh * s.OW + ow) * (I)s.C + c0;
                int k[8];
                load_idx8(idx + o, k);
                const f8 g = load8(dy + o);
#pragma unroll
                for (int j = 0; j < 8; j++)
                    if (k[j] == at) sum[j] += g.v[j];
            }
        f8 d = load8(dx + t * s.C + c0);
#pragma unroll
        for (int j = 0; j < 8; j++) d.v[j] += sum[j];
        store8(dx + t * s.C + c0, d);
    }
}

__device__ __forceinline__ bool nhwc8(int C, const void* a, const void* b, const void* c)
{
    return (C & 7) == 0 && aligned16(a) && aligned16(b) && aligned16(c);
}

KERNEL void maxpool_fwd_nhwc_f32(float* __restrict__ y, int* __restrict__ idx, const float* __restrict__ x,
                                 int N, int H, int W, int C, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShapeNhwc s{N, H, W, C, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)N * C * max(H * W, OH * OW), [&](auto zero) {
        if (nhwc8(C, y, idx, x)) maxpool_fwd_nhwc8<decltype(zero), float>(y, idx, x, s);
        else maxpool_fwd_nhwc<decltype(zero), float>(y, idx, x, s);
    });
}

KERNEL void maxpool_bwd_nhwc_f32(float* __restrict__ dx, const float* __restrict__ dy, const int* __restrict__ idx,
                                 int N, int H, int W, int C, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShapeNhwc s{N, H, W, C, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)N * C * max(H * W, OH * OW), [&](auto zero) {
        if (nhwc8(C, dx, dy, idx)) maxpool_bwd_nhwc8<decltype(zero), float>(dx, dy, idx, s);
        else maxpool_bwd_nhwc<decltype(zero), float>(dx, dy, idx, s);
    });
}

KERNEL void maxpool_fwd_nhwc_bf16(bf16* __restrict__ y, int* __restrict__ idx, const bf16* __restrict__ x,
                                  int N, int H, int W, int C, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShapeNhwc s{N, H, W, C, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)N * C * max(H * W, OH * OW), [&](auto zero) {
        if (nhwc8(C, y, idx, x)) maxpool_fwd_nhwc8<decltype(zero), bf16>(y, idx, x, s);
        else maxpool_fwd_nhwc<decltype(zero), bf16>(y, idx, x, s);
    });
}

KERNEL void maxpool_bwd_nhwc_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, const int* __restrict__ idx,
                                  int N, int H, int W, int C, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const PoolShapeNhwc s{N, H, W, C, OH, OW, kh, kw, sh, sw, ph, pw};
    DISPATCH_INDEX((i64)N * C * max(H * W, OH * OW), [&](auto zero) {
        if (nhwc8(C, dx, dy, idx)) maxpool_bwd_nhwc8<decltype(zero), bf16>(dx, dy, idx, s);
        else maxpool_bwd_nhwc<decltype(zero), bf16>(dx, dy, idx, s);
    });
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

// ---- Max unpooling in bf16 (NCHW) and NHWC: the same scatter / gather, idx within the (n, c) plane.

template <typename T>
__device__ __forceinline__ void unpool_fwd(T* __restrict__ y, const T* __restrict__ x, const int* __restrict__ idx, int N, int C, int inPlane, int outPlane, bool nhwc)
{
    DISPATCH_INDEX((i64)N * C * max(inPlane, outPlane), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * C * inPlane;
        GRID_STRIDE_T(I, i, total) {
            const int at = idx[i];
            if ((unsigned int)at >= (unsigned int)outPlane) continue;
            if (nhwc) {
                const I t = i / C;                         // (n, input pixel)
                y[((t / inPlane) * (I)outPlane + at) * C + (i - t * C)] = x[i];
            } else {
                y[(i / inPlane) * (I)outPlane + at] = x[i];
            }
        }
    });
}

template <typename T>
__device__ __forceinline__ void unpool_bwd(T* __restrict__ dx, const T* __restrict__ dy, const int* __restrict__ idx, int N, int C, int inPlane, int outPlane, bool nhwc)
{
    DISPATCH_INDEX((i64)N * C * max(inPlane, outPlane), [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * C * inPlane;
        GRID_STRIDE_T(I, i, total) {
            const int at = idx[i];
            if ((unsigned int)at >= (unsigned int)outPlane) continue;
            I from;
            if (nhwc) {
                const I t = i / C;
                from = ((t / inPlane) * (I)outPlane + at) * C + (i - t * C);
            } else {
                from = (i / inPlane) * (I)outPlane + at;
            }
            store_f(dx + i, load_f(dx + i) + load_f(dy + from));
        }
    });
}

KERNEL void maxunpool_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, const int* __restrict__ idx,
                               int NC, int inPlane, int outPlane)
{
    unpool_fwd(y, x, idx, NC, 1, inPlane, outPlane, false);
}

KERNEL void maxunpool_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, const int* __restrict__ idx,
                               int NC, int inPlane, int outPlane)
{
    unpool_bwd(dx, dy, idx, NC, 1, inPlane, outPlane, false);
}

KERNEL void maxunpool_fwd_nhwc_f32(float* __restrict__ y, const float* __restrict__ x, const int* __restrict__ idx,
                                   int N, int C, int inPlane, int outPlane)
{
    unpool_fwd(y, x, idx, N, C, inPlane, outPlane, true);
}

KERNEL void maxunpool_bwd_nhwc_f32(float* __restrict__ dx, const float* __restrict__ dy, const int* __restrict__ idx,
                                   int N, int C, int inPlane, int outPlane)
{
    unpool_bwd(dx, dy, idx, N, C, inPlane, outPlane, true);
}

KERNEL void maxunpool_fwd_nhwc_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, const int* __restrict__ idx,
                                    int N, int C, int inPlane, int outPlane)
{
    unpool_fwd(y, x, idx, N, C, inPlane, outPlane, true);
}

KERNEL void maxunpool_bwd_nhwc_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, const int* __restrict__ idx,
                                    int N, int C, int inPlane, int outPlane)
{
    unpool_bwd(dx, dy, idx, N, C, inPlane, outPlane, true);
}
