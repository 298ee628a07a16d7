// A stand-in libcudnn.so.9: the legacy calls the engine makes, as plain loops following
// cuDNN's documented semantics (NCHW float, cross-correlation, alpha/beta blending, spatial
// batch norm with the unbiased variance in the running statistics and 1/sqrt(var + eps)
// saved). Parameters are validated where cuDNN would reject them, at the call; the arithmetic runs
// on the handle's stream through the fake driver, so a capturing stream records it (alpha/beta
// and descriptors read at the call, as cuDNN does). Test tool only.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <vector>
#include "fake_submit.h"

namespace {
struct Tensor { int n = 0, c = 0, h = 0, w = 0; size_t nStride = 0; };  // nStride 0: packed
// Memory index of packed element i: samples may lie further apart than c*h*w (a channel slice of a larger tensor).
size_t at(const Tensor* t, size_t i)
{
    size_t sample = (size_t)t->c * t->h * t->w;
    return t->nStride == 0 ? i : i / sample * t->nStride + i % sample;
}
struct Filter { int k = 0, c = 0, h = 0, w = 0; };
struct Conv { int padH = 0, padW = 0, strideH = 1, strideW = 1, dilH = 1, dilW = 1, groups = 1; };
char lastError[256] = "";
int fail(int status, const char* what) { std::snprintf(lastError, sizeof lastError, "fake cuDNN: %s", what); return status; }
constexpr int BadParam = 2000, NotSupported = 3000;
constexpr size_t AlgoOneWorkspace = 4096;

float blend(float alpha, double value, float beta, float old) { return (float)(alpha * value + (beta == 0 ? 0.0 : beta * (double)old)); }

bool outputShape(const Tensor* x, const Filter* f, const Conv* cv, const Tensor* y)
{
    int oh = (x->h + 2 * cv->padH - cv->dilH * (f->h - 1) - 1) / cv->strideH + 1;
    int ow = (x->w + 2 * cv->padW - cv->dilW * (f->w - 1) - 1) / cv->strideW + 1;
    return y->n == x->n && y->c == f->k && y->h == oh && y->w == ow && x->c == f->c * cv->groups && f->k % cv->groups == 0;
}

// Visits every (n, k, oh, ow, c, r, s) term of the convolution with the flat indices involved.
template <typename F>
void forEachTerm(const Tensor* x, const Filter* f, const Conv* cv, const Tensor* y, F term)
{
    int kPerGroup = f->k / cv->groups;
    for (int n = 0; n < y->n; n++)
        for (int k = 0; k < y->c; k++) {
            int g = k / kPerGroup;
            for (int oh = 0; oh < y->h; oh++)
                for (int ow = 0; ow < y->w; ow++) {
                    size_t yi = (((size_t)n * y->c + k) * y->h + oh) * y->w + ow;
                    for (int c = 0; c < f->c; c++)
                        for (int r = 0; r < f->h; r++)
                            for (int s = 0; s < f->w; s++) {
                                int ih = oh * cv->strideH - cv->padH + r * cv->dilH;
                                int iw = ow * cv->strideW - cv->padW + s * cv->dilW;
                                if (ih < 0 || ih >= x->h || iw < 0 || iw >= x->w) continue;
                                size_t xi = (((size_t)n * x->c + g * f->c + c) * x->h + ih) * x->w + iw;
                                size_t wi = (((size_t)k * f->c + c) * f->h + r) * f->w + s;
                                term(yi, xi, wi);
                            }
                }
        }
}

int checkWorkspace(int algo, const void* ws, size_t bytes)
{
    if (algo < 0 || algo > 1) return fail(BadParam, "unknown algorithm");
    if (algo == 1 && (ws == nullptr || bytes < AlgoOneWorkspace)) return fail(BadParam, "algorithm 1 needs its workspace");
    return 0;
}

struct Perf { int algo; int status; float time; size_t memory; int determinism; int mathType; int reserved[3]; };

int heuristics(int requested, int* returned, Perf* perf)
{
    // Best first: a non-deterministic algorithm without workspace, then a deterministic one with.
    Perf all[2] = {{0, 0, 1.f, 0, 0, 0, {}}, {1, 0, 2.f, AlgoOneWorkspace, 1, 0, {}}};
    *returned = requested < 2 ? requested : 2;
    for (int i = 0; i < *returned; i++) perf[i] = all[i];
    return 0;
}
}  // namespace

// For fake_cudnn_backend.cpp, which shares the last-error text.
int fakeCudnnFail(int status, const char* what) { return fail(status, what); }

extern "C" {
size_t cudnnGetVersion() { return 90100; }
const char* cudnnGetErrorString(int s)
{
    switch (s) {
    case 0: return "CUDNN_STATUS_SUCCESS";
    case BadParam: return "CUDNN_STATUS_BAD_PARAM";
    case 2004: return "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED";
    case 2010: return "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE";
    case 2012: return "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE";
    default: return "CUDNN_STATUS_NOT_SUPPORTED";
    }
}
void cudnnGetLastErrorString(char* message, size_t max) { std::snprintf(message, max, "%s", lastError); lastError[0] = 0; }
struct Handle { void* stream = nullptr; };
int cudnnCreate(void** h) { *h = new Handle; return 0; }
int cudnnDestroy(void* h) { delete static_cast<Handle*>(h); return 0; }
int cudnnSetStream(void* h, void* s) { static_cast<Handle*>(h)->stream = s; return 0; }

int cudnnCreateTensorDescriptor(Tensor** d) { *d = new Tensor; return 0; }
int cudnnDestroyTensorDescriptor(Tensor* d) { delete d; return 0; }
int cudnnSetTensor4dDescriptor(Tensor* d, int format, int type, int n, int c, int h, int w)
{
    if (format != 0 || type != 0) return fail(NotSupported, "only NCHW float");
    if (n < 1 || c < 1 || h < 1 || w < 1) return fail(BadParam, "non-positive tensor dimension");
    *d = {n, c, h, w};
    return 0;
}
int cudnnSetTensor4dDescriptorEx(Tensor* d, int type, int n, int c, int h, int w, int ns, int cs, int hs, int ws)
{
    if (type != 0) return fail(NotSupported, "only float");
    if (n < 1 || c < 1 || h < 1 || w < 1) return fail(BadParam, "non-positive tensor dimension");
    if (ws != 1 || hs != w || cs != h * w || ns < c * h * w) return fail(NotSupported, "only NCHW with a sample stride of at least c*h*w");
    *d = {n, c, h, w, (size_t)ns};
    return 0;
}
int cudnnCreateFilterDescriptor(Filter** d) { *d = new Filter; return 0; }
int cudnnDestroyFilterDescriptor(Filter* d) { delete d; return 0; }
int cudnnSetFilter4dDescriptor(Filter* d, int type, int format, int k, int c, int h, int w)
{
    if (format != 0 || type != 0) return fail(NotSupported, "only NCHW float");
    if (k < 1 || c < 1 || h < 1 || w < 1) return fail(BadParam, "non-positive filter dimension");
    *d = {k, c, h, w};
    return 0;
}
int cudnnCreateConvolutionDescriptor(Conv** d) { *d = new Conv; return 0; }
int cudnnDestroyConvolutionDescriptor(Conv* d) { delete d; return 0; }
int cudnnSetConvolution2dDescriptor(Conv* d, int padH, int padW, int u, int v, int dh, int dw, int mode, int type)
{
    if (mode != 1) return fail(NotSupported, "only cross-correlation");
    if (type != 0) return fail(NotSupported, "only float compute");
    if (padH < 0 || padW < 0 || u < 1 || v < 1 || dh < 1 || dw < 1) return fail(BadParam, "bad convolution geometry");
    d->padH = padH; d->padW = padW; d->strideH = u; d->strideW = v; d->dilH = dh; d->dilW = dw;
    return 0;
}
int cudnnSetConvolutionMathType(Conv*, int m) { return m >= 0 && m <= 3 ? 0 : fail(BadParam, "math type"); }
int cudnnSetConvolutionGroupCount(Conv* d, int g) { if (g < 1) return fail(BadParam, "groups"); d->groups = g; return 0; }

int cudnnGetConvolutionForwardAlgorithm_v7(void*, Tensor* x, Filter* f, Conv* c, Tensor* y, int req, int* ret, Perf* p)
{ return outputShape(x, f, c, y) ? heuristics(req, ret, p) : fail(BadParam, "forward: shapes do not match"); }
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void*, Filter* f, Tensor* dy, Conv* c, Tensor* dx, int req, int* ret, Perf* p)
{ return outputShape(dx, f, c, dy) ? heuristics(req, ret, p) : fail(BadParam, "backward data: shapes do not match"); }
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void*, Tensor* x, Tensor* dy, Conv* c, Filter* dw, int req, int* ret, Perf* p)
{ return outputShape(x, dw, c, dy) ? heuristics(req, ret, p) : fail(BadParam, "backward filter: shapes do not match"); }
// The benchmarks run every algorithm, so they overwrite their output: NaN here, so that a caller
// passing a buffer it accumulates into (instead of scratch) is caught.
static void scribble(float* p, size_t n) { for (size_t i = 0; i < n; i++) p[i] = NAN; }
static size_t count(const Tensor* t) { return (size_t)t->n * t->c * t->h * t->w; }
int cudnnFindConvolutionForwardAlgorithmEx(void*, Tensor* x, const float*, Filter* f, const float*, Conv* c, Tensor* y, float* yp,
    int req, int* ret, Perf* p, void*, size_t)
{
    if (!outputShape(x, f, c, y)) return fail(BadParam, "find forward: shapes do not match");
    scribble(yp, count(y));
    return heuristics(req, ret, p);
}
int cudnnFindConvolutionBackwardDataAlgorithmEx(void*, Filter* f, const float*, Tensor* dy, const float*, Conv* c, Tensor* dx, float* dxp,
    int req, int* ret, Perf* p, void*, size_t)
{
    if (!outputShape(dx, f, c, dy)) return fail(BadParam, "find backward data: shapes do not match");
    for (size_t i = 0; i < count(dx); i++) dxp[at(dx, i)] = NAN;
    return heuristics(req, ret, p);
}
int cudnnFindConvolutionBackwardFilterAlgorithmEx(void*, Tensor* x, const float*, Tensor* dy, const float*, Conv* c, Filter* dw, float* dwp,
    int req, int* ret, Perf* p, void*, size_t)
{
    if (!outputShape(x, dw, c, dy)) return fail(BadParam, "find backward filter: shapes do not match");
    scribble(dwp, (size_t)dw->k * dw->c * dw->h * dw->w);
    return heuristics(req, ret, p);
}

int cudnnGetConvolutionForwardWorkspaceSize(void*, Tensor*, Filter*, Conv*, Tensor*, int algo, size_t* b) { *b = algo == 1 ? AlgoOneWorkspace : 0; return 0; }
int cudnnGetConvolutionBackwardDataWorkspaceSize(void*, Filter*, Tensor*, Conv*, Tensor*, int algo, size_t* b) { *b = algo == 1 ? AlgoOneWorkspace : 0; return 0; }
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void*, Tensor*, Tensor*, Conv*, Filter*, int algo, size_t* b) { *b = algo == 1 ? AlgoOneWorkspace : 0; return 0; }

int cudnnConvolutionForward(void* h, const float* alpha, Tensor* xd, const float* x, Filter* fd, const float* w, Conv* cd, int algo,
    void* ws, size_t wsBytes, const float* beta, Tensor* yd, float* y)
{
    if (!outputShape(xd, fd, cd, yd)) return fail(BadParam, "forward: shapes do not match");
    if (int r = checkWorkspace(algo, ws, wsBytes)) return r;
    return fake_submit(static_cast<Handle*>(h)->stream, [=, alpha_ = *alpha, beta_ = *beta, xd_ = *xd, fd_ = *fd, cd_ = *cd, yd_ = *yd] {
        const Tensor* xd = &xd_;
        const Filter* fd = &fd_;
        const Conv* cd = &cd_;
        const Tensor* yd = &yd_;
        std::vector<double> acc((size_t)yd->n * yd->c * yd->h * yd->w, 0.0);
        forEachTerm(xd, fd, cd, yd, [&](size_t yi, size_t xi, size_t wi) { acc[yi] += (double)x[at(xd, xi)] * w[wi]; });
        for (size_t i = 0; i < acc.size(); i++) y[at(yd, i)] = blend(alpha_, acc[i], beta_, y[at(yd, i)]);
        return 0;
    });
}

int cudnnConvolutionBackwardData(void* h, const float* alpha, Filter* fd, const float* w, Tensor* dyd, const float* dy, Conv* cd, int algo,
    void* ws, size_t wsBytes, const float* beta, Tensor* dxd, float* dx)
{
    if (!outputShape(dxd, fd, cd, dyd)) return fail(BadParam, "backward data: shapes do not match");
    if (int r = checkWorkspace(algo, ws, wsBytes)) return r;
    return fake_submit(static_cast<Handle*>(h)->stream, [=, alpha_ = *alpha, beta_ = *beta, fd_ = *fd, dyd_ = *dyd, cd_ = *cd, dxd_ = *dxd] {
        const Filter* fd = &fd_;
        const Tensor* dyd = &dyd_;
        const Conv* cd = &cd_;
        const Tensor* dxd = &dxd_;
        std::vector<double> acc((size_t)dxd->n * dxd->c * dxd->h * dxd->w, 0.0);
        forEachTerm(dxd, fd, cd, dyd, [&](size_t yi, size_t xi, size_t wi) { acc[xi] += (double)dy[at(dyd, yi)] * w[wi]; });
        for (size_t i = 0; i < acc.size(); i++) dx[at(dxd, i)] = blend(alpha_, acc[i], beta_, dx[at(dxd, i)]);
        return 0;
    });
}

int cudnnConvolutionBackwardFilter(void* h, const float* alpha, Tensor* xd, const float* x, Tensor* dyd, const float* dy, Conv* cd, int algo,
    void* ws, size_t wsBytes, const float* beta, Filter* fd, float* dw)
{
    if (!outputShape(xd, fd, cd, dyd)) return fail(BadParam, "backward filter: shapes do not match");
    if (int r = checkWorkspace(algo, ws, wsBytes)) return r;
    return fake_submit(static_cast<Handle*>(h)->stream, [=, alpha_ = *alpha, beta_ = *beta, xd_ = *xd, dyd_ = *dyd, cd_ = *cd, fd_ = *fd] {
        const Tensor* xd = &xd_;
        const Tensor* dyd = &dyd_;
        const Conv* cd = &cd_;
        const Filter* fd = &fd_;
        std::vector<double> acc((size_t)fd->k * fd->c * fd->h * fd->w, 0.0);
        forEachTerm(xd, fd, cd, dyd, [&](size_t yi, size_t xi, size_t wi) { acc[wi] += (double)dy[at(dyd, yi)] * x[at(xd, xi)]; });
        for (size_t i = 0; i < acc.size(); i++) dw[i] = blend(alpha_, acc[i], beta_, dw[i]);
        return 0;
    });
}

int cudnnDeriveBNTensorDescriptor(Tensor* d, Tensor* x, int mode)
{
    if (mode != 1) return fail(NotSupported, "only spatial batch norm");
    *d = {1, x->c, 1, 1};
    return 0;
}

static bool bnShapes(Tensor* x, Tensor* bn) { return bn->n == 1 && bn->c == x->c && bn->h == 1 && bn->w == 1; }

int cudnnBatchNormalizationForwardTraining(void* h, int mode, const float* alpha, const float* beta, Tensor* xd, const float* x,
    Tensor* yd, float* y, Tensor* bd, const float* scale, const float* bias, double factor, float* runMean, float* runVar,
    double eps, float* saveMean, float* saveInvStd)
{
    if (mode != 1 || !bnShapes(xd, bd) || xd->n != yd->n || xd->c != yd->c || xd->h != yd->h || xd->w != yd->w) return fail(BadParam, "bn shapes");
    if (eps < 1e-5) return fail(BadParam, "epsilon below CUDNN_BN_MIN_EPSILON");
    return fake_submit(static_cast<Handle*>(h)->stream, [=, alpha_ = *alpha, beta_ = *beta, xd_ = *xd] {
        const Tensor* xd = &xd_;
        size_t plane = (size_t)xd->h * xd->w, m = xd->n * plane;
        for (int c = 0; c < xd->c; c++) {
            double sum = 0, sq = 0;
            for (int n = 0; n < xd->n; n++)
                for (size_t i = 0; i < plane; i++) sum += x[((size_t)n * xd->c + c) * plane + i];
            double mean = sum / m;
            for (int n = 0; n < xd->n; n++)
                for (size_t i = 0; i < plane; i++) { double d = x[((size_t)n * xd->c + c) * plane + i] - mean; sq += d * d; }
            double var = sq / m, inv = 1 / std::sqrt(var + eps);
            for (int n = 0; n < xd->n; n++)
                for (size_t i = 0; i < plane; i++) {
                    size_t at = ((size_t)n * xd->c + c) * plane + i;
                    y[at] = blend(alpha_, (x[at] - mean) * inv * scale[c] + bias[c], beta_, y[at]);
                }
            if (runMean) runMean[c] = (float)((1 - factor) * runMean[c] + factor * mean);
            if (runVar) runVar[c] = (float)((1 - factor) * runVar[c] + factor * var * m / (m - 1.0));
            if (saveMean) saveMean[c] = (float)mean;
            if (saveInvStd) saveInvStd[c] = (float)inv;
        }
        return 0;
    });
}

int cudnnBatchNormalizationForwardInference(void* h, int mode, const float* alpha, const float* beta, Tensor* xd, const float* x,
    Tensor*, float* y, Tensor* bd, const float* scale, const float* bias, const float* mean, const float* var, double eps)
{
    if (mode != 1 || !bnShapes(xd, bd)) return fail(BadParam, "bn shapes");
    if (eps < 1e-5) return fail(BadParam, "epsilon below CUDNN_BN_MIN_EPSILON");
    return fake_submit(static_cast<Handle*>(h)->stream, [=, alpha_ = *alpha, beta_ = *beta, xd_ = *xd] {
        const Tensor* xd = &xd_;
        size_t plane = (size_t)xd->h * xd->w;
        for (int n = 0; n < xd->n; n++)
            for (int c = 0; c < xd->c; c++)
                for (size_t i = 0; i < plane; i++) {
                    size_t at = ((size_t)n * xd->c + c) * plane + i;
                    y[at] = blend(alpha_, (x[at] - mean[c]) / std::sqrt((double)var[c] + eps) * scale[c] + bias[c], beta_, y[at]);
                }
        return 0;
    });
}

int cudnnBatchNormalizationBackward(void* h, int mode, const float* aData, const float* bData, const float* aParam, const float* bParam,
    Tensor* xd, const float* x, Tensor*, const float* dy, Tensor*, float* dx, Tensor* bd, const float* scale, float* dScale, float* dBias,
    double eps, const float* savedMean, const float* savedInvStd)
{
    if (mode != 1 || !bnShapes(xd, bd)) return fail(BadParam, "bn shapes");
    if (eps < 1e-5) return fail(BadParam, "epsilon below CUDNN_BN_MIN_EPSILON");
    if (!savedMean || !savedInvStd) return fail(NotSupported, "the fake needs the saved statistics");
    return fake_submit(static_cast<Handle*>(h)->stream, [=, aData_ = *aData, bData_ = *bData, aParam_ = *aParam, bParam_ = *bParam, xd_ = *xd] {
        const Tensor* xd = &xd_;
        size_t plane = (size_t)xd->h * xd->w, m = xd->n * plane;
        for (int c = 0; c < xd->c; c++) {
            double mean = savedMean[c], inv = savedInvStd[c], sumDy = 0, sumDyXhat = 0;
            for (int n = 0; n < xd->n; n++)
                for (size_t i = 0; i < plane; i++) {
                    size_t at = ((size_t)n * xd->c + c) * plane + i;
                    sumDy += dy[at];
                    sumDyXhat += dy[at] * (x[at] - mean) * inv;
                }
            for (int n = 0; n < xd->n; n++)
                for (size_t i = 0; i < plane; i++) {
                    size_t at = ((size_t)n * xd->c + c) * plane + i;
                    double xhat = (x[at] - mean) * inv;
                    dx[at] = blend(aData_, scale[c] * inv * (dy[at] - sumDy / m - xhat * sumDyXhat / m), bData_, dx[at]);
                }
            dScale[c] = blend(aParam_, sumDyXhat, bParam_, dScale[c]);
            dBias[c] = blend(aParam_, sumDy, bParam_, dBias[c]);
        }
        return 0;
    });
}
}
