// A stand-in libcuda.so.1 for machines without a GPU: the driver API subset the engine binds,
// on host memory, with cuLaunchKernel running the kernels compiled for the CPU by
// kernels/emulator. Every allocation carries guard bytes that are checked after each launch,
// so a kernel writing past a buffer (wrong sizes or argument order) fails the launch with
// CUDA_ERROR_ILLEGAL_ADDRESS. Copies and launches run synchronously, except while a stream
// captures (cuStreamBeginCapture_v2): then its work (launches with their argument values copied,
// copies, memsets, and cuBLAS/cuDNN calls through fake_cuda_submit) is recorded for
// cuGraphLaunch to replay, and what the real driver refuses during a capture (a synchronous
// copy, a stream or context synchronisation, cuMemFree, waiting on a captured event) fails with
// CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and invalidates the capture. Test tool only.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

int fake_dispatch(const char* name, unsigned grid, unsigned block, unsigned shared, void** p);
bool fake_has_kernel(const char* name);
int fake_param_sizes(const char* name, int* sizes);

namespace {
constexpr size_t Guard = 256;
constexpr unsigned char GuardByte = 0xCD;
std::mutex gate;
std::map<uintptr_t, size_t> live;  // user pointer -> size
struct Function { std::string name; };
int contextToken, moduleToken;

constexpr int CaptureUnsupported = 900, CaptureInvalidated = 901, CapturedEvent = 907;
using Work = std::function<int()>;
struct Capture { bool invalid = false; std::vector<Work> work; };
struct Graph { std::vector<Work> work; };
std::recursive_mutex captureGate;
std::map<void*, Capture> capturing;  // stream -> its capture in progress
std::set<void*> capturedEvents;      // recorded during a capture: not waitable

// A call the real driver refuses while any stream captures (global mode): it invalidates them.
bool refusedDuringCapture()
{
    std::lock_guard lock(captureGate);
    for (auto& [s, c] : capturing) c.invalid = true;
    return !capturing.empty();
}

// Runs the work now, or records it when the stream captures.
int submit(void* stream, Work work)
{
    {
        std::lock_guard lock(captureGate);
        auto it = capturing.find(stream);
        if (it != capturing.end()) {
            if (it->second.invalid) return CaptureInvalidated;
            it->second.work.push_back(std::move(work));
            return 0;
        }
    }
    return work();
}

bool guards_intact(std::string& which)
{
    for (auto& [p, size] : live) {
        auto* after = reinterpret_cast<unsigned char*>(p) + size;
        auto* before = reinterpret_cast<unsigned char*>(p) - Guard;
        for (size_t i = 0; i < Guard; i++)
            if (after[i] != GuardByte || before[i] != GuardByte) {
                char buf[128];
                std::snprintf(buf, sizeof buf, "buffer at 0x%zx of %zu bytes", (size_t)p, size);
                which = buf;
                return false;
            }
    }
    return true;
}

int allocate(unsigned long long* dptr, size_t bytes)
{
    auto* raw = static_cast<unsigned char*>(std::aligned_alloc(256, ((bytes + 2 * Guard) + 255) / 256 * 256));
    if (!raw) return 2;
    std::memset(raw, GuardByte, Guard);
    std::memset(raw + Guard, 0xFF, bytes);  // NaN bit patterns: reads of unwritten memory show
    std::memset(raw + Guard + bytes, GuardByte, Guard);
    std::lock_guard lock(gate);
    live[reinterpret_cast<uintptr_t>(raw + Guard)] = bytes;
    *dptr = reinterpret_cast<uintptr_t>(raw + Guard);
    return 0;
}

int release(unsigned long long dptr)
{
    std::lock_guard lock(gate);
    auto it = live.find(dptr);
    if (it == live.end()) return 1;
    std::string which;
    bool ok = guards_intact(which);
    live.erase(it);
    std::free(reinterpret_cast<unsigned char*>(dptr) - Guard);
    return ok ? 0 : 700;
}
}  // namespace

extern "C" {
int cuInit(unsigned) { return 0; }
int cuDriverGetVersion(int* v) { *v = 12020; return 0; }
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
int cuDeviceGetName(char* name, int len, int) { std::snprintf(name, len, "Fake CUDA device (CPU emulator)"); return 0; }
int cuDeviceGetAttribute(int* v, int attribute, int)
{
    switch (attribute) {
        case 16: *v = 1; return 0;   // multiprocessors: few blocks per launch, the emulator is slow
        case 75: *v = 8; return 0;
        case 76: *v = 0; return 0;
        case 115: *v = 0; return 0;  // no memory pools: cuMemAlloc path
        default: *v = 0; return 0;
    }
}
int cuDeviceTotalMem_v2(size_t* bytes, int) { *bytes = size_t(16) << 30; return 0; }
int cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = &contextToken; return 0; }
int cuDevicePrimaryCtxRelease_v2(int) { return 0; }
int cuCtxSetCurrent(void*) { return 0; }
int cuCtxGetCurrent(void** ctx) { *ctx = &contextToken; return 0; }
int cuCtxSynchronize() { return refusedDuringCapture() ? CaptureUnsupported : 0; }

int cuMemAlloc_v2(unsigned long long* p, size_t bytes) { return allocate(p, bytes); }
int cuMemFree_v2(unsigned long long p) { return refusedDuringCapture() ? CaptureUnsupported : release(p); }
int cuMemAllocAsync(unsigned long long* p, size_t bytes, void*) { return allocate(p, bytes); }
int cuMemFreeAsync(unsigned long long p, void*) { return release(p); }
int cuMemGetInfo_v2(size_t* free, size_t* total) { *free = size_t(8) << 30; *total = size_t(16) << 30; return 0; }
int cuMemHostAlloc(void** p, size_t bytes, unsigned) { *p = std::malloc(bytes); return *p ? 0 : 2; }
int cuMemFreeHost(void* p) { std::free(p); return 0; }
static int copy(unsigned long long d, const void* s, size_t n) { std::memmove((void*)d, s, n); return 0; }
static int fill32(unsigned long long d, unsigned v, size_t n) { auto* p = (unsigned*)d; for (size_t i = 0; i < n; i++) p[i] = v; return 0; }
static int fill8(unsigned long long d, unsigned char v, size_t n) { std::memset((void*)d, v, n); return 0; }
int cuMemcpyHtoD_v2(unsigned long long d, const void* s, size_t n) { return refusedDuringCapture() ? CaptureUnsupported : copy(d, s, n); }
int cuMemcpyDtoH_v2(void* d, unsigned long long s, size_t n) { return refusedDuringCapture() ? CaptureUnsupported : copy((unsigned long long)d, (void*)s, n); }
int cuMemcpyDtoD_v2(unsigned long long d, unsigned long long s, size_t n) { return refusedDuringCapture() ? CaptureUnsupported : copy(d, (void*)s, n); }
// A recorded host-to-device copy reads the host memory when replayed, as a real graph's memcpy node does.
int cuMemcpyHtoDAsync_v2(unsigned long long d, const void* s, size_t n, void* st) { return submit(st, [=] { return copy(d, s, n); }); }
int cuMemcpyDtoHAsync_v2(void* d, unsigned long long s, size_t n, void* st) { return submit(st, [=] { return copy((unsigned long long)d, (void*)s, n); }); }
int cuMemcpyDtoDAsync_v2(unsigned long long d, unsigned long long s, size_t n, void* st) { return submit(st, [=] { return copy(d, (void*)s, n); }); }
int cuMemsetD32_v2(unsigned long long d, unsigned v, size_t n) { return refusedDuringCapture() ? CaptureUnsupported : fill32(d, v, n); }
int cuMemsetD8_v2(unsigned long long d, unsigned char v, size_t n) { return refusedDuringCapture() ? CaptureUnsupported : fill8(d, v, n); }
int cuMemsetD32Async(unsigned long long d, unsigned v, size_t n, void* st) { return submit(st, [=] { return fill32(d, v, n); }); }
int cuMemsetD8Async(unsigned long long d, unsigned char v, size_t n, void* st) { return submit(st, [=] { return fill8(d, v, n); }); }

int cuModuleLoadDataEx(void** m, const void* image, unsigned, int*, void**)
{
    if (!image || !std::strstr(static_cast<const char*>(image), ".entry")) return 218;
    *m = &moduleToken;
    return 0;
}
int cuModuleGetFunction(void** f, void*, const char* name)
{
    if (!fake_has_kernel(name)) return 500;
    *f = new Function{name};
    return 0;
}
int cuModuleUnload(void*) { return 0; }

static int launch(const std::string& name, unsigned gx, unsigned bx, unsigned shared, void** params)
{
    try {
        if (fake_dispatch(name.c_str(), gx, bx, shared, params) != 0) return 500;
    } catch (const char* e) {
        std::fprintf(stderr, "fake cuLaunchKernel(%s): %s\n", name.c_str(), e);
        return 1;
    }
    std::lock_guard lock(gate);
    std::string which;
    if (!guards_intact(which)) {
        std::fprintf(stderr, "fake cuLaunchKernel(%s): wrote outside %s\n", name.c_str(), which.c_str());
        return 700;
    }
    return 0;
}

int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shared,
    void* stream, void** params, void** extra)
{
    if (gy != 1 || gz != 1 || by != 1 || bz != 1 || extra) return 1;  // the engine launches 1-D only
    std::string name = static_cast<Function*>(f)->name;
    bool recording;
    {
        std::lock_guard lock(captureGate);
        recording = capturing.count(stream) != 0;
    }
    if (!recording) return launch(name, gx, bx, shared, params);
    // As the real driver does, the argument values are copied at the launch, not read at replay.
    int sizes[64];
    int n = fake_param_sizes(name.c_str(), sizes);
    if (n < 0) return 500;
    std::vector<std::vector<char>> values;
    for (int i = 0; i < n; i++) values.emplace_back((char*)params[i], (char*)params[i] + sizes[i]);
    return submit(stream, [=]() mutable {
        std::vector<void*> p;
        for (auto& v : values) p.push_back(v.data());
        return launch(name, gx, bx, shared, p.data());
    });
}

int cuStreamCreate(void** s, unsigned) { *s = new int(0); return 0; }
int cuStreamSynchronize(void* s)
{
    std::lock_guard lock(captureGate);
    auto it = capturing.find(s);
    if (it == capturing.end()) return 0;
    it->second.invalid = true;
    return CaptureUnsupported;
}
int cuStreamQuery(void* s) { return cuStreamSynchronize(s); }
int cuStreamDestroy_v2(void* s) { delete static_cast<int*>(s); return 0; }
int cuEventCreate(void** e, unsigned) { *e = new int(0); return 0; }
int cuEventRecord(void* e, void* s)
{
    std::lock_guard lock(captureGate);
    if (capturing.count(s)) capturedEvents.insert(e); else capturedEvents.erase(e);
    return 0;
}
int cuEventSynchronize(void* e)
{
    std::lock_guard lock(captureGate);
    if (!capturedEvents.count(e)) return 0;
    refusedDuringCapture();
    return CapturedEvent;
}
int cuEventDestroy_v2(void* e) { { std::lock_guard lock(captureGate); capturedEvents.erase(e); } delete static_cast<int*>(e); return 0; }
int cuEventElapsedTime(float* ms, void*, void*) { *ms = 0.001f; return 0; }

int cuStreamBeginCapture_v2(void* s, int mode)
{
    if (mode < 0 || mode > 2) return 1;
    std::lock_guard lock(captureGate);
    if (capturing.count(s)) return 1;
    capturing[s] = Capture{};
    return 0;
}
int cuStreamIsCapturing(void* s, int* status)
{
    std::lock_guard lock(captureGate);
    auto it = capturing.find(s);
    *status = it == capturing.end() ? 0 : it->second.invalid ? 2 : 1;
    return 0;
}
int cuStreamEndCapture(void* s, void** graph)
{
    std::lock_guard lock(captureGate);
    auto it = capturing.find(s);
    if (it == capturing.end()) return 1;
    bool invalid = it->second.invalid;
    *graph = invalid ? nullptr : new Graph{std::move(it->second.work)};
    capturing.erase(it);
    return invalid ? CaptureInvalidated : 0;
}
int cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long flags)
{
    if (!graph || flags != 0) return 1;
    *exec = new Graph{static_cast<Graph*>(graph)->work};
    return 0;
}
int cuGraphLaunch(void* exec, void* s)
{
    if (!exec) return 400;
    auto* g = static_cast<Graph*>(exec);
    return submit(s, [g] {
        for (auto& w : g->work)
            if (int r = w()) return r >= 1000 ? 719 : r;  // a library's status becomes a failed launch
        return 0;
    });
}
int cuGraphExecDestroy(void* exec) { delete static_cast<Graph*>(exec); return 0; }
int cuGraphDestroy(void* graph) { delete static_cast<Graph*>(graph); return 0; }

int fake_cuda_submit(void* stream, std::function<int()>* work) { return submit(stream, std::move(*work)); }

int cuGetErrorName(int code, const char** s)
{
    switch (code) {
        case 0: *s = "CUDA_SUCCESS"; return 0;
        case 1: *s = "CUDA_ERROR_INVALID_VALUE"; return 0;
        case 2: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
        case 101: *s = "CUDA_ERROR_INVALID_DEVICE"; return 0;
        case 218: *s = "CUDA_ERROR_INVALID_PTX"; return 0;
        case 500: *s = "CUDA_ERROR_NOT_FOUND"; return 0;
        case 700: *s = "CUDA_ERROR_ILLEGAL_ADDRESS"; return 0;
        case 801: *s = "CUDA_ERROR_NOT_SUPPORTED"; return 0;
        case 900: *s = "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"; return 0;
        case 901: *s = "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED"; return 0;
        case 907: *s = "CUDA_ERROR_CAPTURED_EVENT"; return 0;
        case 719: *s = "CUDA_ERROR_LAUNCH_FAILED"; return 0;
        default: *s = nullptr; return 1;
    }
}
int cuGetErrorString(int code, const char** s)
{
    if (cuGetErrorName(code, s) != 0) return 1;
    *s = "reported by the fake CUDA driver";
    return 0;
}
int cuGetProcAddress_v2(const char*, void** fn, int, unsigned long long, int* status) { *fn = nullptr; *status = 1; return 0; }
}
