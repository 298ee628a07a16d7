// Nearest-neighbour upsampling by an integer factor; backward as a gather over each
// scale x scale block (ABI.md, "upsample"). Matches engine/Ops/UpsampleNearest.cs. float32 and
// bf16 (copies exact, gradient sums fp32), NCHW and NHWC.
#include "bf16.cuh"

KERNEL void upsample_nearest_fwd_f32(float* __restrict__ y, const float* __restrict__ x, int NC, int H, int W, int scale)
{
    const int OH = H * scale, OW = W * scale;
    DISPATCH_INDEX((i64)NC * OH * OW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)NC * OH * OW;
        GRID_STRIDE_T(I, o, total) {
            const I t = o / OW;
            const int ow = (int)(o - t * OW), oh = (int)(t % OH);
            y[o] = x[(t / OH) * (I)H * W + (oh / scale) * W + ow / scale];
        }
    });
}

KERNEL void upsample_nearest_bwd_f32(float* __restrict__ dx, const float* __restrict__ dy, int NC, int H, int W, int scale)
{
    const int OH = H * scale, OW = W * scale;
    DISPATCH_INDEX((i64)NC * OH * OW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)NC * H * W;
        GRID_STRIDE_T(I, i, total) {
            const I t = i / W;
            const int w = (int)(i - t * W), h = (int)(t % H);
            const float* block = dy + (t / H) * (I)OH * OW + (h * scale) * OW + w * scale;
            float sum = 0.f;
            for (int a = 0; a < scale; a++)
                for (int b = 0; b < scale; b++) sum += block[a * OW + b];
            dx[i] += sum;
        }
    });
}

KERNEL void upsample_nearest_fwd_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int NC, int H, int W, int scale)
{
    const int OH = H * scale, OW = W * scale;
    DISPATCH_INDEX((i64)NC * OH * OW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)NC * OH * OW;
        GRID_STRIDE_T(I, o, total) {
            const I t = o / OW;
            const int ow = (int)(o - t * OW), oh = (int)(t % OH);
            y[o] = x[(t / OH) * (I)H * W + (oh / scale) * W + ow / scale];
        }
    });
}

KERNEL void upsample_nearest_bwd_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, int NC, int H, int W, int scale)
{
    const int OH = H * scale, OW = W * scale;
    DISPATCH_INDEX((i64)NC * OH * OW, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)NC * H * W;
        GRID_STRIDE_T(I, i, total) {
            const I t = i / W;
            const int w = (int)(i - t * W), h = (int)(t % H);
            const bf16* block = dy + (t / H) * (I)OH * OW + (h * scale) * OW + w * scale;
            float sum = 0.f;
            for (int a = 0; a < scale; a++)
                for (int b = 0; b < scale; b++) sum += load_f(block + a * OW + b);
            store_f(dx + i, load_f(dx + i) + sum);
        }
    });
}

// ---- NHWC: x [N, H, W, C], y [N, H*scale, W*scale, C]. Forward copies whole pixels, 16 bytes at
// a time when a pixel's C channels are a multiple of 16 bytes and both pointers are aligned.
template <typename T>
__device__ __forceinline__ void upsample_fwd_nhwc(T* __restrict__ y, const T* __restrict__ x, int N, int H, int W, int C, int scale)
{
    const int OH = H * scale, OW = W * scale;
    const int per = 16 / (int)sizeof(T);                   // elements per 16 bytes
    const bool vec = aligned16(y) && aligned16(x) && C % per == 0;
    const int V = vec ? C / per : C;                       // units (vectors or elements) per pixel
    DISPATCH_INDEX((i64)N * OH * OW * C, [&](auto zero) {
        typedef decltype(zero) I;
        const I total = (I)N * OH * OW * V;
        GRID_STRIDE_T(I, o, total) {
            const I t = o / V;                             // output pixel
            const int v = (int)(o - t * V);
            const I u = t / OW;
            const int ow = (int)(t - u * OW), oh = (int)(u % OH);
            const I from = ((u / OH) * (I)H * W + (oh / scale) * W + ow / scale) * C;
            if (vec) *reinterpret_cast<uint4*>(y + t * C + v * per) = *reinterpret_cast<const uint4*>(x + from + v * per);
            else y[t * C + v] = x[from + v];
        }
    });
}

// Backward gather; 8 channels per thread (16-byte bf16 vectors, two float4) when C is a multiple
// of 8 and both pointers are 16-byte aligned.
template <typename T>
__device__ __forceinline__ void upsample_bwd_nhwc(T* __restrict__ dx, const T* __restrict__ dy, int N, int H, int W, int C, int scale)
{
    const int OH = H * scale, OW = W * scale;
    DISPATCH_INDEX((i64)N * OH * OW * C, [&](auto zero) {
        typedef decltype(zero) I;
        if ((C & 7) == 0 && aligned16(dx) && aligned16(dy)) {
            const int C8 = C >> 3;
            const I total = (I)N * H * W * C8;
            GRID_STRIDE_T(I, i, total) {
                const I t = i / C8;                        // input pixel
                const int c0 = (int)(i - t * C8) << 3;
                const I u = t / W;
                const int w = (int)(t - u * W), h = (int)(u % H);
                const T* block = dy + ((u / H) * (I)OH * OW + (I)(h * scale) * OW + w * scale) * C + c0;
                f8 d = load8(dx + t * C + c0);
                float sum[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
                for (int a = 0; a < scale; a++)
                    for (int b = 0; b < scale; b++) {
                        const f8 g = load8(block + ((I)a * OW + b) * C);
                        for (int j = 0; j < 8; j++) sum[j] += g.v[j];
                    }
                for (int j = 0; j < 8; j++) d.v[j] += sum[j];   // (constant trip counts: unrolled at -O3)
                store8(dx + t * C + c0, d);
            }
            return;
        }
        const I total = (I)N * H * W * C;
        GRID_STRIDE_T(I, i, total) {
            const I t = i / C;                             // input pixel
            const int c = (int)(i - t * C);
            const I u = t / W;
            const int w = (int)(t - u * W), h = (int)(u % H);
            const T* block = dy + ((u / H) * (I)OH * OW + (I)(h * scale) * OW + w * scale) * C + c;
            float sum = 0.f;
            for (int a = 0; a < scale; a++)
                for (int b = 0; b < scale; b++) sum += load_f(block + ((I)a * OW + b) * C);
            store_f(dx + i, load_f(dx + i) + sum);
        }
    });
}

KERNEL void upsample_nearest_fwd_nhwc_f32(float* __restrict__ y, const float* __restrict__ x, int N, int H, int W, int C, int scale)
{
    upsample_fwd_nhwc(y, x, N, H, W, C, scale);
}

KERNEL void upsample_nearest_bwd_nhwc_f32(float* __restrict__ dx, const float* __restrict__ dy, int N, int H, int W, int C, int scale)
{
    upsample_bwd_nhwc(dx, dy, N, H, W, C, scale);
}

KERNEL void upsample_nearest_fwd_nhwc_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int N, int H, int W, int C, int scale)
{
    upsample_fwd_nhwc(y, x, N, H, W, C, scale);
}

KERNEL void upsample_nearest_bwd_nhwc_bf16(bf16* __restrict__ dx, const bf16* __restrict__ dy, int N, int H, int W, int C, int scale)
{
    upsample_bwd_nhwc(dx, dy, N, H, W, C, scale);
}
