// A CPU stand-in for the CUDA runtime, just enough to run the kernels in kernels/*.cu on a
// machine without a GPU: each block runs with one std::thread per CUDA thread (blocks one after
// another), __syncthreads is a barrier over the block, warp shuffles exchange through a slot
// per lane between two barriers of the warp. It checks logic and indexing, not performance,
// memory ordering or races. Force-included (-include emu.h) when compiling a .cu as C++20.
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#define KERNEL_EMULATION 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict
#define __align__(n) alignas(n)

using std::isnan;
using std::max;
using std::min;

struct dim3 { unsigned x = 1, y = 1, z = 1; };

inline dim3 gridDim, blockDim, blockIdx;  // blocks run one at a time
inline thread_local dim3 threadIdx;

struct alignas(16) float4 { float x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(16) int4 { int x, y, z, w; };

inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }

// bfloat16 as cuda_bf16.h names it (kernels/bf16.cuh): the upper 16 bits of a float32.
struct __nv_bfloat16 { unsigned short bits; };
typedef __nv_bfloat16 bf16;  // as bf16.cuh, for the generated wrappers
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short b) { return __nv_bfloat16{b}; }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.bits; }
inline float __bfloat162float(__nv_bfloat16 h) { return __uint_as_float((unsigned)h.bits << 16); }
// The hardware conversion cvt.rn.bf16.f32: round to nearest, ties to even, on the bits (exact
// for every finite value incl. subnormals; past half an ulp above the largest finite -> inf);
// a NaN becomes the canonical NaN 0x7FFF, as cuda_bf16.hpp's own host path does.
inline __nv_bfloat16 __float2bfloat16_rn(float f)
{
    unsigned u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return __nv_bfloat16{0x7fff};
    u += 0x7fffu + ((u >> 16) & 1u);
    return __nv_bfloat16{(unsigned short)(u >> 16)};
}

namespace emu {

struct Block {
    explicit Block(unsigned threads, size_t sharedBytes)
        : sync(threads), smem(sharedBytes + 16, 0xAB)  // shared memory starts as garbage, as on a GPU
    {
        for (unsigned w = 0; w < threads / 32; w++) warps.push_back(std::make_unique<std::barrier<>>(32));
    }
    std::barrier<> sync;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    uint64_t slots[32][32] = {};
    std::vector<unsigned char> smem;
};

inline Block* current = nullptr;

inline unsigned char* aligned_smem()
{
    auto p = reinterpret_cast<uintptr_t>(current->smem.data());
    return reinterpret_cast<unsigned char*>((p + 15) & ~uintptr_t(15));
}

// Runs fn over a 1-D grid. Arguments convert to the kernel's parameter types.
template <typename... P, typename... A>
void launch(void (*fn)(P...), unsigned grid, unsigned block, size_t sharedBytes, A... args)
{
    if (block == 0 || block % 32 != 0 || block > 1024) throw "emulated blocks must be 32..1024 threads, a multiple of 32";
    gridDim = dim3{grid, 1, 1};
    blockDim = dim3{block, 1, 1};
    for (unsigned b = 0; b < grid; b++) {
        Block blk(block, sharedBytes);
        current = &blk;
        blockIdx = dim3{b, 0, 0};
        std::vector<std::thread> threads;
        threads.reserve(block);
        for (unsigned t = 0; t < block; t++)
            threads.emplace_back([&, t] {
                threadIdx = dim3{t, 0, 0};
                fn(static_cast<P>(args)...);
                // A finished thread no longer takes part in barriers.
                blk.sync.arrive_and_drop();
                blk.warps[t / 32]->arrive_and_drop();
            });
        for (auto& th : threads) th.join();
        current = nullptr;
    }
}

}  // namespace emu

inline void __syncthreads() { emu::current->sync.arrive_and_wait(); }

template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int laneMask)
{
    static_assert(sizeof(T) <= 8);
    const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    auto& slots = emu::current->slots[warp];
    auto& bar = *emu::current->warps[warp];
    std::memcpy(&slots[lane], &v, sizeof(T));
    bar.arrive_and_wait();
    T r;
    std::memcpy(&r, &slots[lane ^ laneMask], sizeof(T));
    bar.arrive_and_wait();
    return r;
}

inline int atomicAdd(int* p, int v) { return std::atomic_ref<int>(*p).fetch_add(v); }
inline int atomicExch(int* p, int v) { return std::atomic_ref<int>(*p).exchange(v); }

template <typename T>
inline T* dynamic_shared() { return reinterpret_cast<T*>(emu::aligned_smem()); }
