// In-place optimizer updates matching Training's SgdUpdate / AdamUpdate (ABI.md, "optimizer"). The
// per-step scalars (learning rate, bias corrections) are read from device memory, so that a
// captured training step picks up the values written before each replay. The *_copy_bf16 forms
// also write the updated master's bf16 copy (the product operand of the next forward).
#include "bf16.cuh"

struct Sgd {
    float lr, momentum, gain, weightDecay;
    __device__ __forceinline__ void operator()(float& w, float& v, float g) const
    {
        const float gd = fmaf(weightDecay, w, g);
        v = fmaf(momentum, v, gain * gd);
        w = fmaf(-lr, v, w);
    }
};

struct Adam {
    float beta1, beta2, eps, weightDecay, stepSize, sqrtBc2;
    __device__ __forceinline__ void operator()(float& w, float& m, float& v, float g) const
    {
        const float gd = fmaf(weightDecay, w, g);
        m = fmaf(beta1, m, (1.f - beta1) * gd);
        v = fmaf(beta2, v, (1.f - beta2) * gd * gd);
        w -= stepSize * m / (sqrtf(v) / sqrtBc2 + eps);
    }
};

KERNEL void sgd_momentum_f32(float* __restrict__ w, float* __restrict__ v, const float* __restrict__ g,
                             const float* __restrict__ lr, float momentum, float gain, float weightDecay, i64 n)
{
    const Sgd op{*lr, momentum, gain, weightDecay};
    if (aligned16(w) && aligned16(v) && aligned16(g)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 a = load4(w + 4 * i), b = load4(v + 4 * i);
            const float4 c = load4(g + 4 * i);
            op(a.x, b.x, c.x); op(a.y, b.y, c.y); op(a.z, b.z, c.z); op(a.w, b.w, c.w);
            store4(w + 4 * i, a); store4(v + 4 * i, b);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) op(w[i], v[i], g[i]);
    } else {
        GRID_STRIDE(i, n) op(w[i], v[i], g[i]);
    }
}

KERNEL void adam_f32(float* __restrict__ w, float* __restrict__ m, float* __restrict__ v, const float* __restrict__ g,
                     float beta1, float beta2, float eps, float weightDecay, const float* __restrict__ bias, i64 n)
{
    const Adam op{beta1, beta2, eps, weightDecay, bias[0], bias[1]};
    if (aligned16(w) && aligned16(m) && aligned16(v) && aligned16(g)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 a = load4(w + 4 * i), b = load4(m + 4 * i), c = load4(v + 4 * i);
            const float4 d = load4(g + 4 * i);
            op(a.x, b.x, c.x, d.x); op(a.y, b.y, c.y, d.y); op(a.z, b.z, c.z, d.z); op(a.w, b.w, c.w, d.w);
            store4(w + 4 * i, a); store4(m + 4 * i, b); store4(v + 4 * i, c);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) op(w[i], m[i], v[i], g[i]);
    } else {
        GRID_STRIDE(i, n) op(w[i], m[i], v[i], g[i]);
    }
}

// ---- The same updates, also writing wCopy[i] = Bf16.Round(updated w[i]) (saves f32_to_bf16's
// second read of the masters).

KERNEL void sgd_momentum_copy_bf16(float* __restrict__ w, bf16* __restrict__ wCopy, float* __restrict__ v, const float* __restrict__ g,
                                   const float* __restrict__ lr, float momentum, float gain, float weightDecay, i64 n)
{
    const Sgd op{*lr, momentum, gain, weightDecay};
    if (aligned16(w) && aligned16(v) && aligned16(g)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 a = load4(w + 4 * i), b = load4(v + 4 * i);
            const float4 c = load4(g + 4 * i);
            op(a.x, b.x, c.x); op(a.y, b.y, c.y); op(a.z, b.z, c.z); op(a.w, b.w, c.w);
            store4(w + 4 * i, a); store4(v + 4 * i, b);
            store_f(wCopy + 4 * i, a.x); store_f(wCopy + 4 * i + 1, a.y);
            store_f(wCopy + 4 * i + 2, a.z); store_f(wCopy + 4 * i + 3, a.w);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) { op(w[i], v[i], g[i]); store_f(wCopy + i, w[i]); }
    } else {
        GRID_STRIDE(i, n) { op(w[i], v[i], g[i]); store_f(wCopy + i, w[i]); }
    }
}

KERNEL void adam_copy_bf16(float* __restrict__ w, bf16* __restrict__ wCopy, float* __restrict__ m, float* __restrict__ v, const float* __restrict__ g,
                           float beta1, float beta2, float eps, float weightDecay, const float* __restrict__ bias, i64 n)
{
    const Adam op{beta1, beta2, eps, weightDecay, bias[0], bias[1]};
    if (aligned16(w) && aligned16(m) && aligned16(v) && aligned16(g)) {
        const i64 n4 = n >> 2;
        GRID_STRIDE(i, n4) {
            float4 a = load4(w + 4 * i), b = load4(m + 4 * i), c = load4(v + 4 * i);
            const float4 d = load4(g + 4 * i);
            op(a.x, b.x, c.x, d.x); op(a.y, b.y, c.y, d.y); op(a.z, b.z, c.z, d.z); op(a.w, b.w, c.w, d.w);
            store4(w + 4 * i, a); store4(m + 4 * i, b); store4(v + 4 * i, c);
            store_f(wCopy + 4 * i, a.x); store_f(wCopy + 4 * i + 1, a.y);
            store_f(wCopy + 4 * i + 2, a.z); store_f(wCopy + 4 * i + 3, a.w);
        }
        for (i64 i = (n4 << 2) + thread_index(); i < n; i += thread_count()) { op(w[i], m[i], v[i], g[i]); store_f(wCopy + i, w[i]); }
    } else {
        GRID_STRIDE(i, n) { op(w[i], m[i], v[i], g[i]); store_f(wCopy + i, w[i]); }
    }
}
