// A stand-in libcublas.so.13: the handle calls and float GEMMs the engine makes, as plain
// column-major loops with cuBLAS' argument semantics, run on the handle's stream through the fake
// driver (so that a capturing stream records them; alpha and beta are read at the call, as host
// scalars are). Test tool only.
#include <cstddef>
#include "fake_submit.h"

namespace {
struct Handle { void* stream = nullptr; void* workspace = nullptr; size_t workspaceBytes = 0; };
}

extern "C" {
int cublasCreate_v2(void** h) { *h = new Handle; return 0; }
int cublasDestroy_v2(void* h) { delete static_cast<Handle*>(h); return 0; }
// As cuBLAS does, setting the stream resets the workspace to the library's own.
int cublasSetStream_v2(void* h, void* s) { *static_cast<Handle*>(h) = Handle{s}; return 0; }
int cublasSetWorkspace_v2(void* h, void* w, size_t bytes)
{
    if (bytes > 0 && !w) return 7;
    static_cast<Handle*>(h)->workspace = w;
    static_cast<Handle*>(h)->workspaceBytes = bytes;
    return 0;
}
int cublasSetMathMode(void*, int) { return 0; }
int cublasGetVersion_v2(void*, int* v) { *v = 130000; return 0; }
int cublasGetProperty(int type, int* v) { *v = type == 0 ? 13 : 0; return 0; }
const char* cublasGetStatusName(int s) { return s == 0 ? "CUBLAS_STATUS_SUCCESS" : s == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_NOT_SUPPORTED"; }

static int gemm(int opA, int opB, int m, int n, int k, const float* alpha, const float* a, int lda, const float* b, int ldb,
    const float* beta, float* c, int ldc)
{
    if (lda < (opA ? k : m) || ldb < (opB ? n : k) || ldc < m) return 7;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double sum = 0;
            for (int p = 0; p < k; p++)
                sum += (double)(opA ? a[p + (size_t)i * lda] : a[i + (size_t)p * lda]) * (opB ? b[j + (size_t)p * ldb] : b[p + (size_t)j * ldb]);
            float* out = &c[i + (size_t)j * ldc];
            *out = (float)(*alpha * sum + (*beta == 0 ? 0 : *beta * *out));
        }
    return 0;
}

int cublasGemmEx(void* h, int opA, int opB, int m, int n, int k, const void* alpha, const void* a, int aType, int lda,
    const void* b, int bType, int ldb, const void* beta, void* c, int cType, int ldc, int compute, int)
{
    if (aType != 0 || bType != 0 || cType != 0 || (compute != 68 && compute != 77)) return 15;
    float al = *(const float*)alpha, be = *(const float*)beta;
    if (lda < (opA ? k : m) || ldb < (opB ? n : k) || ldc < m) return 7;
    return fake_submit(static_cast<Handle*>(h)->stream, [=] {
        return gemm(opA, opB, m, n, k, &al, (const float*)a, lda, (const float*)b, ldb, &be, (float*)c, ldc);
    });
}

int cublasGemmStridedBatchedEx(void* h, int opA, int opB, int m, int n, int k, const void* alpha, const void* a, int aType, int lda,
    long long sa, const void* b, int bType, int ldb, long long sb, const void* beta, void* c, int cType, int ldc, long long sc,
    int batch, int compute, int)
{
    if (aType != 0 || bType != 0 || cType != 0 || (compute != 68 && compute != 77)) return 15;
    float al = *(const float*)alpha, be = *(const float*)beta;
    if (lda < (opA ? k : m) || ldb < (opB ? n : k) || ldc < m) return 7;
    return fake_submit(static_cast<Handle*>(h)->stream, [=] {
        for (int i = 0; i < batch; i++) {
            int r = gemm(opA, opB, m, n, k, &al, (const float*)a + i * sa, lda, (const float*)b + i * sb, ldb, &be, (float*)c + i * sc, ldc);
            if (r) return r;
        }
        return 0;
    });
}
}
