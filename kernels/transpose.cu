// NCHW <-> NHWC for graph inputs and outputs (ABI.md, "transpose"): per sample a [R, S] ->
// [S, R] matrix transpose through a 32 x 33 shared tile (both global sides coalesced), fp32,
// bf16, and the two fused with the fp32 <-> bf16 conversion (fp32 NCHW images -> bf16 NHWC
// input, bf16 NHWC output -> fp32 NCHW).
#include "bf16.cuh"

enum { TILE = 32 };

// y[n, s, r] = x[n, r, s] for x [N, R, S]; tiles of 32 x 32, blockDim.x / 32 rows of threads.
// Grid-stride over the N * ceil(R/32) * ceil(S/32) tiles (the loop count is the same for every
// thread of a block, so the barriers are uniform).
template <typename D, typename S>
__device__ __forceinline__ void transpose_planes(D* __restrict__ y, const S* __restrict__ x, int N, int R, int Sc)
{
    __shared__ float tile[TILE][TILE + 1];
    const int tr = (R + TILE - 1) / TILE, ts = (Sc + TILE - 1) / TILE;
    const i64 tiles = (i64)N * tr * ts;
    const int lane = threadIdx.x & 31, rows = blockDim.x >> 5, row = threadIdx.x >> 5;
    const i64 plane = (i64)R * Sc;
    for (i64 t = blockIdx.x; t < tiles; t += gridDim.x) {
        const i64 n = t / ((i64)tr * ts);
        const int rest = (int)(t - n * tr * ts);
        const int r0 = (rest / ts) * TILE, s0 = (rest % ts) * TILE;
        const S* xs = x + n * plane;
        D* ys = y + n * plane;
        for (int i = row; i < TILE; i += rows) {            // read rows r0 + i, columns s0 + lane
            const int r = r0 + i, s = s0 + lane;
            if (r < R && s < Sc) tile[i][lane] = load_f(xs + (i64)r * Sc + s);
        }
        __syncthreads();
        for (int i = row; i < TILE; i += rows) {            // write rows s0 + i, columns r0 + lane
            const int s = s0 + i, r = r0 + lane;
            if (r < R && s < Sc) store_f(ys + (i64)s * R + r, tile[lane][i]);
        }
        __syncthreads();
    }
}

KERNEL void nchw_to_nhwc_f32(float* __restrict__ y, const float* __restrict__ x, int N, int C, int HW)
{
    transpose_planes(y, x, N, C, HW);
}

KERNEL void nhwc_to_nchw_f32(float* __restrict__ y, const float* __restrict__ x, int N, int C, int HW)
{
    transpose_planes(y, x, N, HW, C);
}

KERNEL void nchw_to_nhwc_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int N, int C, int HW)
{
    transpose_planes(y, x, N, C, HW);
}

KERNEL void nhwc_to_nchw_bf16(bf16* __restrict__ y, const bf16* __restrict__ x, int N, int C, int HW)
{
    transpose_planes(y, x, N, HW, C);
}

KERNEL void nchw_f32_to_nhwc_bf16(bf16* __restrict__ y, const float* __restrict__ x, int N, int C, int HW)
{
    transpose_planes(y, x, N, C, HW);
}

KERNEL void nhwc_bf16_to_nchw_f32(float* __restrict__ y, const bf16* __restrict__ x, int N, int C, int HW)
{
    transpose_planes(y, x, N, HW, C);
}
