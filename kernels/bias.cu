// Bias add over channels and its gradient (ABI.md, "bias").
#include "common.cuh"

KERNEL void bias_add_f32(float* __restrict__ y, const float* __restrict__ bias, int C, i64 inner, i64 n)
{
    if (aligned16(y) && (inner & 3) == 0) {
        // Four consecutive elements share one channel when inner is a multiple of 4.
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            const float b = bias[((4 * i) / inner) % C];
            float4 v = load4(y + 4 * i);
            v.x += b; v.y += b; v.z += b; v.w += b;
            store4(y + 4 * i, v);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) y[i] += bias[(i / inner) % C];
    } else {
        GRID_STRIDE(i, n) y[i] += bias[(i / inner) % C];
    }
}

// One block per channel (grid-stride over channels); fixed summation order.
KERNEL void bias_grad_f32(float* __restrict__ dbias, const float* __restrict__ dy, int N, int C, i64 inner)
{
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        float s = 0.f;
        const bool vec = aligned16(dy) && (inner & 3) == 0;
        for (int n = 0; n < N; n++) {
            const float* row = dy + ((i64)n * C + c) * inner;
            if (vec) {
                for (i64 j = threadIdx.x; j < (inner >> 2); j += blockDim.x) {
                    const float4 v = load4(row + 4 * j);
                    s += (v.x + v.y) + (v.z + v.w);
                }
            } else {
                for (i64 j = threadIdx.x; j < inner; j += blockDim.x) s += row[j];
            }
        }
        s = block_sum(s);
        if (threadIdx.x == 0) dbias[c] += s;
    }
}
