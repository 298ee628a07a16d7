// A stand-in libcublas.so.13: the handle calls and float GEMMs the engine makes, as plain
// column-major loops with cuBLAS' argument semantics (test tool only).
#include <cstddef>

extern "C" {
int cublasCreate_v2(void** h) { static int token; *h = &token; return 0; }
int cublasDestroy_v2(void*) { return 0; }
int cublasSetStream_v2(void*, void*) { return 0; }
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

int cublasGemmEx(void*, int opA, int opB, int m, int n, int k, const void* alpha, const void* a, int aType, int lda,
    const void* b, int bType, int ldb, const void* beta, void* c, int cType, int ldc, int compute, int)
{
    if (aType != 0 || bType != 0 || cType != 0 || (compute != 68 && compute != 77)) return 15;
    return gemm(opA, opB, m, n, k, (const float*)alpha, (const float*)a, lda, (const float*)b, ldb, (const float*)beta, (float*)c, ldc);
}

int cublasGemmStridedBatchedEx(void*, int opA, int opB, int m, int n, int k, const void* alpha, const void* a, int aType, int lda,
    long long sa, const void* b, int bType, int ldb, long long sb, const void* beta, void* c, int cType, int ldc, long long sc,
    int batch, int compute, int)
{
    if (aType != 0 || bType != 0 || cType != 0 || (compute != 68 && compute != 77)) return 15;
    for (int i = 0; i < batch; i++) {
        int r = gemm(opA, opB, m, n, k, (const float*)alpha, (const float*)a + i * sa, lda, (const float*)b + i * sb, ldb,
            (const float*)beta, (float*)c + i * sc, ldc);
        if (r) return r;
    }
    return 0;
}
}
