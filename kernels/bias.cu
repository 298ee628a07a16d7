// Bias add over channels and its gradient (ABI.md, "bias"). float32 and bf16 tensors (the bias
// and its gradient fp32); NHWC and [N, F] are inner = 1.
#include "bf16.cuh"

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

// y (bf16) += bias (fp32): 8 elements per step when y is 16-byte aligned and either the 8 share a
// channel (inner a multiple of 8: NCHW) or are 8 consecutive channels (inner = 1, C a multiple
// of 8: NHWC and [N, F]).
KERNEL void bias_add_bf16(bf16* __restrict__ y, const float* __restrict__ bias, int C, i64 inner, i64 n)
{
    const bool plane = (inner & 7) == 0, pixel = inner == 1 && (C & 7) == 0;
    if (aligned16(y) && (plane || pixel)) {
        const i64 n8 = n >> 3;
        GRID_STRIDE(i, n8) {
            f8 v = load8(y + 8 * i);
            if (plane) {
                const float b = bias[((8 * i) / inner) % C];
#pragma unroll
                for (int j = 0; j < 8; j++) v.v[j] += b;
            } else {
                const int c0 = (int)((8 * i) % C);
#pragma unroll
                for (int j = 0; j < 8; j++) v.v[j] += bias[c0 + j];
            }
            store8(y + 8 * i, v);
        }
        for (i64 i = (n8 << 3) + thread_index(); i < n; i += thread_count()) store_f(y + i, load_f(y + i) + bias[(i / inner) % C]);
    } else {
        GRID_STRIDE(i, n) store_f(y + i, load_f(y + i) + bias[(i / inner) % C]);
    }
}

// dbias (fp32) += sums of a bf16 dy: one block per channel, as bias_grad_f32 (scalar loads).
KERNEL void bias_grad_bf16(float* __restrict__ dbias, const bf16* __restrict__ dy, int N, int C, i64 inner)
{
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        float s = 0.f;
        for (int n = 0; n < N; n++) {
            const bf16* row = dy + ((i64)n * C + c) * inner;
            for (i64 j = threadIdx.x; j < inner; j += blockDim.x) s += load_f(row + j);
        }
        s = block_sum(s);
        if (threadIdx.x == 0) dbias[c] += s;
    }
}
