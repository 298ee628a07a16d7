// Nearest-neighbour upsampling by an integer factor; backward as a gather over each
// scale x scale block (ABI.md, "upsample"). Matches engine/Ops/UpsampleNearest.cs.
#include "common.cuh"

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
