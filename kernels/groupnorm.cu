// Group normalization over x [N, C, HW] with G groups: two-pass float32 statistics per
// (n, g), per-channel affine; backward in two kernels with no atomics (ABI.md, "groupnorm").
#include "common.cuh"

// Sum of f(v) over the M contiguous floats at p, across the block.
template <class F>
__device__ __forceinline__ float block_reduce_group(const float* __restrict__ p, int M, F f)
{
    float s = 0.f;
    if (aligned16(p) && (M & 3) == 0) {
        for (int j = threadIdx.x; j < (M >> 2); j += blockDim.x) {
            const float4 v = load4(p + 4 * j);
            s += (f(v.x) + f(v.y)) + (f(v.z) + f(v.w));
        }
    } else {
        for (int j = threadIdx.x; j < M; j += blockDim.x) s += f(p[j]);
    }
    return block_sum(s);
}

KERNEL void groupnorm_fwd_f32(float* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd,
                              const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                              int N, int C, int HW, int G, float eps)
{
    const int Cg = C / G, M = Cg * HW;
    for (int ng = blockIdx.x; ng < N * G; ng += gridDim.x) {
        const int n = ng / G, g = ng - n * G;
        const i64 offset = ((i64)n * C + (i64)g * Cg) * HW;
        const float* xg = x + offset;
        float* yg = y + offset;
        const float mu = block_reduce_group(xg, M, [](float v) { return v; }) / (float)M;
        const float var = block_reduce_group(xg, M, [mu](float v) { const float d = v - mu; return d * d; }) / (float)M;
        const float r = rsqrtf(var + eps);
        if (threadIdx.x == 0) { mean[ng] = mu; rstd[ng] = r; }
        for (int j = threadIdx.x; j < M; j += blockDim.x) {
            const int c = g * Cg + j / HW;
            const float a = r * gamma[c];
            yg[j] = fmaf(xg[j] - mu, a, beta[c]);
        }
    }
}

// Per-(n, c) sums of dy * (x - mean) and dy, then dx for the group.
KERNEL void groupnorm_bwd_f32(float* __restrict__ dx, float* __restrict__ scratch, const float* __restrict__ dy,
                              const float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ rstd,
                              const float* __restrict__ gamma, int N, int C, int HW, int G)
{
    const int Cg = C / G, M = Cg * HW;
    const int warp = threadIdx.x >> 5, warps = blockDim.x >> 5, lane = lane_id();
    for (int ng = blockIdx.x; ng < N * G; ng += gridDim.x) {
        const int n = ng / G, g = ng - n * G;
        const i64 offset = ((i64)n * C + (i64)g * Cg) * HW;
        const float mu = mean[ng], r = rstd[ng];
        float* dsum = scratch + (i64)n * C + (i64)g * Cg;       // sum dy * (x - mean) per channel
        float* bsum = dsum + (i64)N * C;                         // sum dy per channel
        if (Cg >= warps) {
            for (int c = warp; c < Cg; c += warps) {
                const float* xc = x + offset + (i64)c * HW;
                const float* gc = dy + offset + (i64)c * HW;
                float ds = 0.f, db = 0.f;
                for (int j = lane; j < HW; j += 32) { ds += gc[j] * (xc[j] - mu); db += gc[j]; }
                ds = warp_sum(ds); db = warp_sum(db);
                if (lane == 0) { dsum[c] = ds; bsum[c] = db; }
            }
        } else {
            for (int c = 0; c < Cg; c++) {
                const float* xc = x + offset + (i64)c * HW;
                const float* gc = dy + offset + (i64)c * HW;
                float ds = 0.f, db = 0.f;
                for (int j = threadIdx.x; j < HW; j += blockDim.x) { ds += gc[j] * (xc[j] - mu); db += gc[j]; }
                ds = block_sum(ds); db = block_sum(db);
                if (threadIdx.x == 0) { dsum[c] = ds; bsum[c] = db; }
            }
        }
        __syncthreads();  // the per-channel sums are read by every thread below
        if (dx != nullptr) {
            float a = 0.f, b = 0.f;
            for (int c = threadIdx.x; c < Cg; c += blockDim.x) {
                const float gm = gamma[g * Cg + c];
                a += gm * dsum[c];
                b += gm * bsum[c];
            }
            a = block_sum(a) * r / (float)M;   // mean over the group of dy * gamma * xhat
            b = block_sum(b) / (float)M;       // mean over the group of dy * gamma
            const float* xg = x + offset;
            const float* gg = dy + offset;
            float* dxg = dx + offset;
            for (int j = threadIdx.x; j < M; j += blockDim.x) {
                const float gm = gamma[g * Cg + j / HW];
                const float xhat = (xg[j] - mu) * r;
                dxg[j] += r * (gg[j] * gm - b - xhat * a);
            }
        }
        __syncthreads();  // scratch of this group is not rewritten before everyone has read it
    }
}

// dgamma[c] += sum_n rstd * sum(dy * (x - mean)); dbeta[c] += sum_n sum(dy). One thread per channel.
KERNEL void groupnorm_param_grad_f32(float* __restrict__ dgamma, float* __restrict__ dbeta, const float* __restrict__ scratch,
                                     const float* __restrict__ rstd, int N, int C, int G)
{
    const int Cg = C / G;
    for (i64 c = thread_index(); c < C; c += thread_count()) {
        const int g = (int)c / Cg;
        float dg = 0.f, db = 0.f;
        for (int n = 0; n < N; n++) {
            dg += rstd[n * G + g] * scratch[(i64)n * C + c];
            db += scratch[(i64)N * C + (i64)n * C + c];
        }
        if (dgamma != nullptr) dgamma[c] += dg;
        if (dbeta != nullptr) dbeta[c] += db;
    }
}
