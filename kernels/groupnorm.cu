// Group normalization over x [N, C, HW] with G groups: two-pass float32 statistics per
// (n, g), per-channel affine; backward in two kernels with no atomics (ABI.md, "groupnorm").
// float32 NCHW, and bf16 NCHW / NHWC fp32 / NHWC bf16 (x, y, dy, dx in T; statistics, scratch
// and parameters fp32).
#include "bf16.cuh"

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

// ---- bf16 and NHWC. Element j in [0, M) of group (n, g), M = Cg*HW, is channel g*Cg + cc of
// pixel p: NCHW j = cc*HW + p (contiguous), NHWC j = p*Cg + cc at (n*HW + p)*C + g*Cg + cc
// (runs of Cg channels, pixels C apart).
template <bool Nhwc>
struct GroupIndex {
    i64 base;   // NCHW: (n*C + g*Cg)*HW; NHWC: n*HW*C + g*Cg
    int C, Cg, HW;
    __device__ __forceinline__ i64 at(int j) const
    {
        if (!Nhwc) return base + j;
        const int p = j / Cg;
        return base + (i64)p * C + (j - p * Cg);
    }
    __device__ __forceinline__ int channel(int j) const { return Nhwc ? j % Cg : j / HW; }   // within the group
};

template <bool Nhwc>
__device__ __forceinline__ GroupIndex<Nhwc> group_index(int n, int g, int C, int Cg, int HW)
{
    const i64 base = Nhwc ? (i64)n * HW * C + (i64)g * Cg : ((i64)n * C + (i64)g * Cg) * HW;
    return GroupIndex<Nhwc>{base, C, Cg, HW};
}

template <typename T, bool Nhwc>
__device__ __forceinline__ void groupnorm_fwd_t(T* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd,
                                                const T* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                                                int N, int C, int HW, int G, float eps)
{
    const int Cg = C / G, M = Cg * HW;
    for (int ng = blockIdx.x; ng < N * G; ng += gridDim.x) {
        const int n = ng / G, g = ng - n * G;
        const GroupIndex<Nhwc> ix = group_index<Nhwc>(n, g, C, Cg, HW);
        float s = 0.f;
        for (int j = threadIdx.x; j < M; j += blockDim.x) s += load_f(x + ix.at(j));
        const float mu = block_sum(s) / (float)M;
        float q = 0.f;
        for (int j = threadIdx.x; j < M; j += blockDim.x) { const float d = load_f(x + ix.at(j)) - mu; q += d * d; }
        const float var = block_sum(q) / (float)M;
        const float r = rsqrtf(var + eps);
        if (threadIdx.x == 0) { mean[ng] = mu; rstd[ng] = r; }
        for (int j = threadIdx.x; j < M; j += blockDim.x) {
            const int c = g * Cg + ix.channel(j);
            const i64 at = ix.at(j);
            store_f(y + at, fmaf(load_f(x + at) - mu, r * gamma[c], beta[c]));
        }
    }
}

// The row groups' per-channel sums for the NHWC backward (one slot per thread, two arrays).
__device__ __forceinline__ float* group_scratch()
{
    __shared__ float scratch[2 * 1024];
    return scratch;
}

template <typename T, bool Nhwc>
__device__ __forceinline__ void groupnorm_bwd_t(T* __restrict__ dx, float* __restrict__ scratch, const T* __restrict__ dy,
                                                const T* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ rstd,
                                                const float* __restrict__ gamma, int N, int C, int HW, int G)
{
    const int Cg = C / G, M = Cg * HW;
    const int warp = threadIdx.x >> 5, warps = blockDim.x >> 5, lane = lane_id(), B = blockDim.x, t = threadIdx.x;
    float* shareA = group_scratch();
    float* shareB = shareA + 1024;
    for (int ng = blockIdx.x; ng < N * G; ng += gridDim.x) {
        const int n = ng / G, g = ng - n * G;
        const GroupIndex<Nhwc> ix = group_index<Nhwc>(n, g, C, Cg, HW);
        const float mu = mean[ng], r = rstd[ng];
        float* dsum = scratch + (i64)n * C + (i64)g * Cg;       // sum dy * (x - mean) per channel
        float* bsum = dsum + (i64)N * C;                         // sum dy per channel
        if (!Nhwc) {
            // NCHW: a channel's HW values are contiguous; a warp per channel (or the block per channel).
            if (Cg >= warps) {
                for (int c = warp; c < Cg; c += warps) {
                    const T* xc = x + ix.base + (i64)c * HW;
                    const T* gc = dy + ix.base + (i64)c * HW;
                    float ds = 0.f, db = 0.f;
                    for (int j = lane; j < HW; j += 32) { const float gv = load_f(gc + j); ds += gv * (load_f(xc + j) - mu); db += gv; }
                    ds = warp_sum(ds); db = warp_sum(db);
                    if (lane == 0) { dsum[c] = ds; bsum[c] = db; }
                }
            } else {
                for (int c = 0; c < Cg; c++) {
                    const T* xc = x + ix.base + (i64)c * HW;
                    const T* gc = dy + ix.base + (i64)c * HW;
                    float ds = 0.f, db = 0.f;
                    for (int j = t; j < HW; j += B) { const float gv = load_f(gc + j); ds += gv * (load_f(xc + j) - mu); db += gv; }
                    ds = block_sum(ds); db = block_sum(db);
                    if (t == 0) { dsum[c] = ds; bsum[c] = db; }
                }
            }
        } else if (Cg <= B) {
            // NHWC: thread t takes channel t % Cg of pixels t / Cg, + per, ... (the block reads runs
            // of Cg channels); the `per` pixel groups are added in a fixed order.
            const int per = B / Cg, cc = t % Cg, sub = t / Cg;
            float ds = 0.f, db = 0.f;
            if (sub < per)
                for (int p = sub; p < HW; p += per) {
                    const i64 at = ix.base + (i64)p * C + cc;
                    const float gv = load_f(dy + at);
                    ds += gv * (load_f(x + at) - mu);
                    db += gv;
                }
            shareA[t] = ds;
            shareB[t] = db;
            __syncthreads();
            if (t < Cg) {
                float a = 0.f, b = 0.f;
                for (int k = 0; k < per; k++) { a += shareA[k * Cg + t]; b += shareB[k * Cg + t]; }
                dsum[t] = a;
                bsum[t] = b;
            }
        } else {
            for (int cc = t; cc < Cg; cc += B) {
                float ds = 0.f, db = 0.f;
                for (int p = 0; p < HW; p++) {
                    const i64 at = ix.base + (i64)p * C + cc;
                    const float gv = load_f(dy + at);
                    ds += gv * (load_f(x + at) - mu);
                    db += gv;
                }
                dsum[cc] = ds;
                bsum[cc] = db;
            }
        }
        __syncthreads();  // the per-channel sums are read by every thread below
        if (dx != nullptr) {
            float a = 0.f, b = 0.f;
            for (int c = t; c < Cg; c += B) {
                const float gm = gamma[g * Cg + c];
                a += gm * dsum[c];
                b += gm * bsum[c];
            }
            a = block_sum(a) * r / (float)M;   // mean over the group of dy * gamma * xhat
            b = block_sum(b) / (float)M;       // mean over the group of dy * gamma
            for (int j = t; j < M; j += B) {
                const i64 at = ix.at(j);
                const float gm = gamma[g * Cg + ix.channel(j)];
                const float xhat = (load_f(x + at) - mu) * r;
                store_f(dx + at, load_f(dx + at) + r * (load_f(dy + at) * gm - b - xhat * a));
            }
        }
        __syncthreads();  // scratch of this group is not rewritten before everyone has read it
    }
}

KERNEL void groupnorm_fwd_bf16(bf16* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd,
                               const bf16* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                               int N, int C, int HW, int G, float eps)
{
    groupnorm_fwd_t<bf16, false>(y, mean, rstd, x, gamma, beta, N, C, HW, G, eps);
}

KERNEL void groupnorm_bwd_bf16(bf16* __restrict__ dx, float* __restrict__ scratch, const bf16* __restrict__ dy,
                               const bf16* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ rstd,
                               const float* __restrict__ gamma, int N, int C, int HW, int G)
{
    groupnorm_bwd_t<bf16, false>(dx, scratch, dy, x, mean, rstd, gamma, N, C, HW, G);
}

KERNEL void groupnorm_fwd_nhwc_f32(float* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd,
                                   const float* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                                   int N, int C, int HW, int G, float eps)
{
    groupnorm_fwd_t<float, true>(y, mean, rstd, x, gamma, beta, N, C, HW, G, eps);
}

KERNEL void groupnorm_bwd_nhwc_f32(float* __restrict__ dx, float* __restrict__ scratch, const float* __restrict__ dy,
                                   const float* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ rstd,
                                   const float* __restrict__ gamma, int N, int C, int HW, int G)
{
    groupnorm_bwd_t<float, true>(dx, scratch, dy, x, mean, rstd, gamma, N, C, HW, G);
}

KERNEL void groupnorm_fwd_nhwc_bf16(bf16* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd,
                                    const bf16* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,
                                    int N, int C, int HW, int G, float eps)
{
    groupnorm_fwd_t<bf16, true>(y, mean, rstd, x, gamma, beta, N, C, HW, G, eps);
}

KERNEL void groupnorm_bwd_nhwc_bf16(bf16* __restrict__ dx, float* __restrict__ scratch, const bf16* __restrict__ dy,
                                    const bf16* __restrict__ x, const float* __restrict__ mean, const float* __restrict__ rstd,
                                    const float* __restrict__ gamma, int N, int C, int HW, int G)
{
    groupnorm_bwd_t<bf16, true>(dx, scratch, dy, x, mean, rstd, gamma, N, C, HW, G);
}
