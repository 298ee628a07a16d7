// The fake libcudnn.so.9's backend (graph) API: descriptors are objects holding the attributes
// set on them; finalize checks that the required ones are there (CUDNN_STATUS_BAD_PARAM naming
// the descriptor and the missing attribute otherwise) and that the values fit together; the
// heuristics offer one engine configuration; an execution plan needs 4 KiB of workspace; execute
// runs the graph's one convolution as loops over the tensors' strides (so NHWC works) with
// alpha/beta. Enum values are those of cuDNN 9.6's cudnn_graph.h. Test tool only.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

int fakeCudnnFail(int status, const char* what);

namespace {
constexpr int BadParam = 2000, NotFinalized = 2004, AttributeType = 2010, DescriptorType = 2012, NotSupported = 3000;
constexpr int64_t PlanWorkspace = 4096;

// cudnnBackendDescriptorType_t
enum : int { Convolution = 1, Engine = 2, EngineCfg = 3, EngineHeur = 4, Plan = 5, ConvFwd = 10, ConvBwdFilter = 11, ConvBwdData = 12,
    OpGraph = 15, VariantPack = 16, TensorDesc = 17 };
// cudnnBackendAttributeType_t
enum : int { THandle = 0, TDataType = 1, TInt64 = 3, TFloat = 4, TDouble = 5, TVoidPtr = 6, TConvMode = 7, THeurMode = 8, TNote = 11, TDesc = 15 };

const char* typeName(int t)
{
    switch (t) {
    case Convolution: return "CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR";
    case Engine: return "CUDNN_BACKEND_ENGINE_DESCRIPTOR";
    case EngineCfg: return "CUDNN_BACKEND_ENGINECFG_DESCRIPTOR";
    case EngineHeur: return "CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR";
    case Plan: return "CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR";
    case ConvFwd: return "CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR";
    case ConvBwdFilter: return "CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR";
    case ConvBwdData: return "CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR";
    case OpGraph: return "CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR";
    case VariantPack: return "CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR";
    case TensorDesc: return "CUDNN_BACKEND_TENSOR_DESCRIPTOR";
    default: return nullptr;
    }
}

size_t elementSize(int type)
{
    switch (type) {
    case TDataType: case TFloat: case TConvMode: case THeurMode: case TNote: return 4;
    case THandle: case TInt64: case TDouble: case TVoidPtr: case TDesc: return 8;
    default: return 0;
    }
}

// Which attributes each descriptor type takes, of which type (alpha/beta: float or double), and which finalize needs.
struct AttrInfo { int attr; int desc; int type; int altType; bool required; const char* name; };
const AttrInfo Attrs[] = {
    {100, Convolution, TDataType, -1, true, "CUDNN_ATTR_CONVOLUTION_COMP_TYPE"},
    {101, Convolution, TConvMode, -1, true, "CUDNN_ATTR_CONVOLUTION_CONV_MODE"},
    {102, Convolution, TInt64, -1, true, "CUDNN_ATTR_CONVOLUTION_DILATIONS"},
    {103, Convolution, TInt64, -1, true, "CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES"},
    {104, Convolution, TInt64, -1, true, "CUDNN_ATTR_CONVOLUTION_POST_PADDINGS"},
    {105, Convolution, TInt64, -1, true, "CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS"},
    {106, Convolution, TInt64, -1, true, "CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS"},
    {200, EngineHeur, THeurMode, -1, true, "CUDNN_ATTR_ENGINEHEUR_MODE"},
    {201, EngineHeur, TDesc, -1, true, "CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH"},
    {400, Plan, THandle, -1, true, "CUDNN_ATTR_EXECUTION_PLAN_HANDLE"},
    {401, Plan, TDesc, -1, true, "CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG"},
    {700, ConvFwd, TFloat, TDouble, false, "CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA"},
    {701, ConvFwd, TFloat, TDouble, false, "CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA"},
    {702, ConvFwd, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC"},
    {703, ConvFwd, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W"},
    {704, ConvFwd, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X"},
    {705, ConvFwd, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y"},
    {706, ConvBwdData, TFloat, TDouble, false, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA"},
    {707, ConvBwdData, TFloat, TDouble, false, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA"},
    {708, ConvBwdData, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC"},
    {709, ConvBwdData, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W"},
    {710, ConvBwdData, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX"},
    {711, ConvBwdData, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY"},
    {712, ConvBwdFilter, TFloat, TDouble, false, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA"},
    {713, ConvBwdFilter, TFloat, TDouble, false, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA"},
    {714, ConvBwdFilter, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC"},
    {715, ConvBwdFilter, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW"},
    {716, ConvBwdFilter, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X"},
    {717, ConvBwdFilter, TDesc, -1, true, "CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY"},
    {800, OpGraph, THandle, -1, true, "CUDNN_ATTR_OPERATIONGRAPH_HANDLE"},
    {801, OpGraph, TDesc, -1, true, "CUDNN_ATTR_OPERATIONGRAPH_OPS"},
    {900, TensorDesc, TInt64, -1, true, "CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT"},
    {901, TensorDesc, TDataType, -1, true, "CUDNN_ATTR_TENSOR_DATA_TYPE"},
    {902, TensorDesc, TInt64, -1, true, "CUDNN_ATTR_TENSOR_DIMENSIONS"},
    {903, TensorDesc, TInt64, -1, true, "CUDNN_ATTR_TENSOR_STRIDES"},
    {906, TensorDesc, TInt64, -1, true, "CUDNN_ATTR_TENSOR_UNIQUE_ID"},
    {1000, VariantPack, TInt64, -1, true, "CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS"},
    {1001, VariantPack, TVoidPtr, -1, true, "CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS"},
    {1003, VariantPack, TVoidPtr, -1, false, "CUDNN_ATTR_VARIANT_PACK_WORKSPACE"},
};

const AttrInfo* findAttr(int desc, int attr)
{
    for (const auto& a : Attrs)
        if (a.desc == desc && a.attr == attr) return &a;
    return nullptr;
}

struct Value { int type = 0; std::vector<unsigned char> bytes; int64_t count() const { return (int64_t)(bytes.size() / elementSize(type)); } };

struct Desc {
    int type;
    bool finalized = false;
    std::map<int, Value> attrs;
    Desc* graph = nullptr;     // engine configs and engines: the operation graph they were found for
    int64_t workspace = 0;     // plans
};

int failf(int status, const char* fmt, const char* a, const char* b = "")
{
    char text[256];
    std::snprintf(text, sizeof text, fmt, a, b);
    return fakeCudnnFail(status, text);
}

template <typename T> T one(const Desc* d, int attr) { T v; std::memcpy(&v, d->attrs.at(attr).bytes.data(), sizeof v); return v; }
template <typename T> std::vector<T> many(const Desc* d, int attr)
{
    const auto& b = d->attrs.at(attr).bytes;
    std::vector<T> v(b.size() / sizeof(T));
    std::memcpy(v.data(), b.data(), b.size());
    return v;
}
double scalar(const Desc* op, int attr, double otherwise)
{
    auto it = op->attrs.find(attr);
    if (it == op->attrs.end()) return otherwise;
    return it->second.type == TFloat ? (double)one<float>(op, attr) : one<double>(op, attr);
}

// The attribute numbers of an operation's X, W, Y (dx, dw, dy in the backward ones), conv, alpha, beta.
struct OpAttrs { int x, w, y, conv, alpha, beta; };
bool opAttrs(int type, OpAttrs* a)
{
    switch (type) {
    case ConvFwd: *a = {704, 703, 705, 702, 700, 701}; return true;
    case ConvBwdData: *a = {710, 709, 711, 708, 706, 707}; return true;
    case ConvBwdFilter: *a = {716, 715, 717, 714, 712, 713}; return true;
    default: return false;
    }
}

struct Tensor4 { int64_t dims[4], strides[4], uid; int dataType; };
Tensor4 tensorOf(const Desc* t)
{
    Tensor4 r{};
    auto dims = many<int64_t>(t, 902), strides = many<int64_t>(t, 903);
    for (int i = 0; i < 4; i++) { r.dims[i] = dims[i]; r.strides[i] = strides[i]; }
    r.uid = one<int64_t>(t, 906);
    r.dataType = one<int>(t, 901);
    return r;
}

struct Geometry { int64_t pre[2], post[2], stride[2], dil[2]; };
Geometry geometryOf(const Desc* c)
{
    Geometry g{};
    auto pre = many<int64_t>(c, 105), post = many<int64_t>(c, 104), st = many<int64_t>(c, 103), dl = many<int64_t>(c, 102);
    for (int i = 0; i < 2; i++) { g.pre[i] = pre[i]; g.post[i] = post[i]; g.stride[i] = st[i]; g.dil[i] = dl[i]; }
    return g;
}

Desc* descAt(const Desc* d, int attr, int index = 0) { return many<Desc*>(d, attr)[index]; }

int finalizeTensor(Desc* d)
{
    auto dims = many<int64_t>(d, 902), strides = many<int64_t>(d, 903);
    if (dims.size() != strides.size() || dims.empty() || dims.size() > 8)
        return failf(BadParam, "%s: CUDNN_ATTR_TENSOR_DIMENSIONS and CUDNN_ATTR_TENSOR_STRIDES differ in length%s", typeName(d->type));
    for (size_t i = 0; i < dims.size(); i++)
        if (dims[i] < 1 || strides[i] < 1) return failf(BadParam, "%s: a dimension or stride below 1%s", typeName(d->type));
    int64_t a = one<int64_t>(d, 900);
    if (a < 1 || (a & (a - 1)) != 0) return failf(BadParam, "%s: CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT is not a power of two%s", typeName(d->type));
    return 0;
}

int finalizeConvolution(Desc* d)
{
    if (one<int64_t>(d, 106) != 2) return failf(NotSupported, "%s: the fake does 2 spatial dimensions only%s", typeName(d->type));
    for (int attr : {102, 103, 104, 105})
        if (d->attrs.at(attr).count() != 2) return failf(BadParam, "%s: %s needs 2 values", typeName(d->type), findAttr(Convolution, attr)->name);
    if (one<int>(d, 101) != 1) return failf(NotSupported, "%s: the fake does cross-correlation only%s", typeName(d->type));
    if (one<int>(d, 100) != 0) return failf(NotSupported, "%s: the fake computes in float only%s", typeName(d->type));
    return 0;
}

// Shapes of x [n, c, h, w], w [k, c/g, r, s], y [n, k, oh, ow] for the geometry.
int finalizeOperation(Desc* d)
{
    OpAttrs a;
    opAttrs(d->type, &a);
    for (int attr : {a.x, a.w, a.y}) {
        Desc* t = descAt(d, attr);
        if (t == nullptr || t->type != TensorDesc) return failf(DescriptorType, "%s: %s is not a tensor descriptor", typeName(d->type), findAttr(d->type, attr)->name);
        if (!t->finalized) return failf(NotFinalized, "%s: %s is not finalized", typeName(d->type), findAttr(d->type, attr)->name);
        if (t->attrs.at(902).count() != 4) return failf(NotSupported, "%s: %s is not 4-d (the fake's only case)", typeName(d->type), findAttr(d->type, attr)->name);
    }
    Desc* c = descAt(d, a.conv);
    if (c == nullptr || c->type != Convolution) return failf(DescriptorType, "%s: %s is not a convolution descriptor", typeName(d->type), findAttr(d->type, a.conv)->name);
    if (!c->finalized) return failf(NotFinalized, "%s: %s is not finalized", typeName(d->type), findAttr(d->type, a.conv)->name);
    Tensor4 x = tensorOf(descAt(d, a.x)), w = tensorOf(descAt(d, a.w)), y = tensorOf(descAt(d, a.y));
    Geometry g = geometryOf(c);
    int64_t groups = w.dims[1] > 0 ? x.dims[1] / w.dims[1] : 0;
    bool ok = groups >= 1 && x.dims[1] == w.dims[1] * groups && w.dims[0] % groups == 0 && y.dims[0] == x.dims[0] && y.dims[1] == w.dims[0];
    for (int i = 0; i < 2 && ok; i++) {
        int64_t out = (x.dims[2 + i] + g.pre[i] + g.post[i] - g.dil[i] * (w.dims[2 + i] - 1) - 1) / g.stride[i] + 1;
        ok = y.dims[2 + i] == out;
    }
    if (!ok) return failf(BadParam, "%s: the X, W and Y shapes do not fit the convolution%s", typeName(d->type));
    if (x.uid == w.uid || x.uid == y.uid || w.uid == y.uid) return failf(BadParam, "%s: two tensors share a unique id%s", typeName(d->type));
    return 0;
}

int finalizeGraph(Desc* d)
{
    auto ops = many<Desc*>(d, 801);
    if (ops.size() != 1) return failf(NotSupported, "%s: the fake runs graphs of one operation%s", typeName(d->type));
    OpAttrs a;
    if (ops[0] == nullptr || !opAttrs(ops[0]->type, &a)) return failf(NotSupported, "%s: the fake runs convolution operations only%s", typeName(d->type));
    if (!ops[0]->finalized) return failf(NotFinalized, "%s: CUDNN_ATTR_OPERATIONGRAPH_OPS holds an operation that is not finalized%s", typeName(d->type));
    return 0;
}

int finalizeHeuristics(Desc* d)
{
    Desc* g = descAt(d, 201);
    if (g == nullptr || g->type != OpGraph || !g->finalized)
        return failf(NotFinalized, "%s: CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH is not a finalized operation graph%s", typeName(d->type));
    int mode = one<int>(d, 200);
    if (mode < 0 || mode > 3) return failf(BadParam, "%s: CUDNN_ATTR_ENGINEHEUR_MODE out of range%s", typeName(d->type));
    return 0;
}

int finalizePlan(Desc* d)
{
    Desc* cfg = descAt(d, 401);
    if (cfg == nullptr || cfg->type != EngineCfg || !cfg->finalized || cfg->graph == nullptr)
        return failf(NotFinalized, "%s: CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG is not an engine configuration from the heuristics%s", typeName(d->type));
    Desc* op = descAt(cfg->graph, 801);
    OpAttrs a;
    opAttrs(op->type, &a);
    for (int attr : {a.x, a.w, a.y})
        if (tensorOf(descAt(op, attr)).dataType != 0) return failf(NotSupported, "%s: the fake's engine takes float tensors only%s", typeName(d->type));
    d->graph = cfg->graph;
    d->workspace = PlanWorkspace;
    return 0;
}

int finalizeVariantPack(Desc* d)
{
    if (d->attrs.at(1000).count() != d->attrs.at(1001).count())
        return failf(BadParam, "%s: CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS and CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS differ in length%s", typeName(d->type));
    return 0;
}

float blend(double alpha, double value, double beta, float old) { return (float)(alpha * value + (beta == 0 ? 0.0 : beta * (double)old)); }

size_t at(const Tensor4& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3)
{
    return (size_t)(i0 * t.strides[0] + i1 * t.strides[1] + i2 * t.strides[2] + i3 * t.strides[3]);
}
size_t numel(const Tensor4& t) { return (size_t)(t.dims[0] * t.dims[1] * t.dims[2] * t.dims[3]); }
// Memory index of the packed (row-major over dims) element i.
size_t atPacked(const Tensor4& t, size_t i)
{
    int64_t i3 = i % t.dims[3], i2 = i / t.dims[3] % t.dims[2], i1 = i / (t.dims[3] * t.dims[2]) % t.dims[1], i0 = i / (t.dims[3] * t.dims[2] * t.dims[1]);
    return at(t, i0, i1, i2, i3);
}
size_t packed(const Tensor4& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3)
{
    return (size_t)(((i0 * t.dims[1] + i1) * t.dims[2] + i2) * t.dims[3] + i3);
}

int run(const Desc* op, const std::map<int64_t, void*>& pointers)
{
    OpAttrs a;
    opAttrs(op->type, &a);
    Tensor4 x = tensorOf(descAt(op, a.x)), w = tensorOf(descAt(op, a.w)), y = tensorOf(descAt(op, a.y));
    float* p[3];
    const Tensor4* ts[3] = {&x, &w, &y};
    for (int i = 0; i < 3; i++) {
        auto it = pointers.find(ts[i]->uid);
        if (it == pointers.end()) return failf(BadParam, "cudnnBackendExecute: the variant pack has no pointer for a tensor of the plan%s", "");
        p[i] = (float*)it->second;
    }
    Geometry g = geometryOf(descAt(op, a.conv));
    double alpha = scalar(op, a.alpha, 1.0), beta = scalar(op, a.beta, 0.0);
    int64_t groups = x.dims[1] / w.dims[1], kPerGroup = w.dims[0] / groups;
    const Tensor4& out = op->type == ConvFwd ? y : op->type == ConvBwdData ? x : w;
    std::vector<double> acc(numel(out), 0.0);
    for (int64_t n = 0; n < y.dims[0]; n++)
        for (int64_t k = 0; k < y.dims[1]; k++)
            for (int64_t oh = 0; oh < y.dims[2]; oh++)
                for (int64_t ow = 0; ow < y.dims[3]; ow++)
                    for (int64_t c = 0; c < w.dims[1]; c++)
                        for (int64_t r = 0; r < w.dims[2]; r++)
                            for (int64_t s = 0; s < w.dims[3]; s++) {
                                int64_t ih = oh * g.stride[0] - g.pre[0] + r * g.dil[0], iw = ow * g.stride[1] - g.pre[1] + s * g.dil[1];
                                if (ih < 0 || ih >= x.dims[2] || iw < 0 || iw >= x.dims[3]) continue;
                                int64_t xc = k / kPerGroup * w.dims[1] + c;
                                double xv = p[0][at(x, n, xc, ih, iw)], wv = p[1][at(w, k, c, r, s)], yv = p[2][at(y, n, k, oh, ow)];
                                if (op->type == ConvFwd) acc[packed(y, n, k, oh, ow)] += xv * wv;
                                else if (op->type == ConvBwdData) acc[packed(x, n, xc, ih, iw)] += yv * wv;
                                else acc[packed(w, k, c, r, s)] += yv * xv;
                            }
    float* o = op->type == ConvFwd ? p[2] : op->type == ConvBwdData ? p[0] : p[1];
    for (size_t i = 0; i < acc.size(); i++) o[atPacked(out, i)] = blend(alpha, acc[i], beta, o[atPacked(out, i)]);
    return 0;
}
}  // namespace

extern "C" {
int cudnnBackendCreateDescriptor(int type, Desc** d)
{
    if (d == nullptr) return fakeCudnnFail(BadParam, "cudnnBackendCreateDescriptor: null output");
    if (typeName(type) == nullptr) return fakeCudnnFail(NotSupported, "cudnnBackendCreateDescriptor: a descriptor type the fake does not have");
    *d = new Desc{type};
    return 0;
}

int cudnnBackendDestroyDescriptor(Desc* d) { delete d; return 0; }

int cudnnBackendSetAttribute(Desc* d, int attr, int type, int64_t count, const void* elements)
{
    if (d == nullptr) return fakeCudnnFail(BadParam, "cudnnBackendSetAttribute: null descriptor");
    const AttrInfo* info = findAttr(d->type, attr);
    if (info == nullptr) {
        char number[16];
        std::snprintf(number, sizeof number, "%d", attr);
        return failf(BadParam, "%s has no attribute %s", typeName(d->type), number);
    }
    if (d->finalized) return failf(BadParam, "%s is finalized: %s cannot be set", typeName(d->type), info->name);
    if (type != info->type && type != info->altType) return failf(AttributeType, "%s: %s set with the wrong attribute type", typeName(d->type), info->name);
    if (count < 1 || elements == nullptr) return failf(BadParam, "%s: %s set with no elements", typeName(d->type), info->name);
    Value v{type};
    v.bytes.resize((size_t)count * elementSize(type));
    std::memcpy(v.bytes.data(), elements, v.bytes.size());
    d->attrs[attr] = std::move(v);
    return 0;
}

int cudnnBackendFinalize(Desc* d)
{
    if (d == nullptr) return fakeCudnnFail(BadParam, "cudnnBackendFinalize: null descriptor");
    if (d->finalized) return failf(BadParam, "%s is already finalized%s", typeName(d->type));
    for (const auto& a : Attrs)
        if (a.desc == d->type && a.required && d->attrs.find(a.attr) == d->attrs.end())
            return failf(BadParam, "%s: required attribute %s not set", typeName(d->type), a.name);
    int r = 0;
    switch (d->type) {
    case TensorDesc: r = finalizeTensor(d); break;
    case Convolution: r = finalizeConvolution(d); break;
    case ConvFwd: case ConvBwdData: case ConvBwdFilter: r = finalizeOperation(d); break;
    case OpGraph: r = finalizeGraph(d); break;
    case EngineHeur: r = finalizeHeuristics(d); break;
    case Plan: r = finalizePlan(d); break;
    case VariantPack: r = finalizeVariantPack(d); break;
    default: return failf(BadParam, "%s: the fake makes these only through the heuristics%s", typeName(d->type));
    }
    if (r == 0) d->finalized = true;
    return r;
}

int cudnnBackendGetAttribute(const Desc* d, int attr, int type, int64_t requested, int64_t* count, void* elements)
{
    if (d == nullptr) return fakeCudnnFail(BadParam, "cudnnBackendGetAttribute: null descriptor");
    if (!d->finalized) return failf(NotFinalized, "cudnnBackendGetAttribute: %s is not finalized%s", typeName(d->type));
    auto out = [&](int64_t n) { if (count) *count = n; };
    if (d->type == EngineHeur && attr == 202) {  // CUDNN_ATTR_ENGINEHEUR_RESULTS: one engine configuration
        if (type != TDesc) return failf(AttributeType, "%s: CUDNN_ATTR_ENGINEHEUR_RESULTS is read as descriptors%s", typeName(d->type));
        out(1);
        if (requested >= 1) {
            Desc* cfg = ((Desc**)elements)[0];
            if (cfg == nullptr || cfg->type != EngineCfg) return failf(DescriptorType, "%s: CUDNN_ATTR_ENGINEHEUR_RESULTS wants engine configuration descriptors%s", typeName(d->type));
            cfg->graph = descAt(d, 201);
            cfg->finalized = true;
        }
        return 0;
    }
    if (d->type == EngineCfg && attr == 300) {  // CUDNN_ATTR_ENGINECFG_ENGINE
        if (type != TDesc || requested < 1) return failf(AttributeType, "%s: CUDNN_ATTR_ENGINECFG_ENGINE is read as one descriptor%s", typeName(d->type));
        Desc* e = ((Desc**)elements)[0];
        if (e == nullptr || e->type != Engine) return failf(DescriptorType, "%s: CUDNN_ATTR_ENGINECFG_ENGINE wants an engine descriptor%s", typeName(d->type));
        e->graph = d->graph;
        e->finalized = true;
        out(1);
        return 0;
    }
    if (d->type == Engine && attr == 1303) {  // CUDNN_ATTR_ENGINE_NUMERICAL_NOTE: the fake's engine is plain float
        if (type != TNote) return failf(AttributeType, "%s: CUDNN_ATTR_ENGINE_NUMERICAL_NOTE is read as numerical notes%s", typeName(d->type));
        out(0);
        return 0;
    }
    if (d->type == Plan && attr == 402) {  // CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE
        if (type != TInt64 || requested < 1) return failf(AttributeType, "%s: CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE is read as one int64%s", typeName(d->type));
        std::memcpy(elements, &d->workspace, sizeof d->workspace);
        out(1);
        return 0;
    }
    const AttrInfo* info = findAttr(d->type, attr);
    auto it = d->attrs.find(attr);
    if (info == nullptr || it == d->attrs.end()) return failf(BadParam, "cudnnBackendGetAttribute: %s has no such attribute set%s", typeName(d->type));
    if (type != it->second.type) return failf(AttributeType, "%s: %s read with the wrong attribute type", typeName(d->type), info->name);
    int64_t n = it->second.count(), copy = requested < n ? requested : n;
    if (copy > 0) std::memcpy(elements, it->second.bytes.data(), (size_t)copy * elementSize(type));
    out(n);
    return 0;
}

int cudnnBackendExecute(void* handle, Desc* plan, Desc* pack)
{
    if (handle == nullptr) return fakeCudnnFail(BadParam, "cudnnBackendExecute: null handle");
    if (plan == nullptr || plan->type != Plan || !plan->finalized) return fakeCudnnFail(NotFinalized, "cudnnBackendExecute: the plan is not a finalized execution plan");
    if (pack == nullptr || pack->type != VariantPack || !pack->finalized) return fakeCudnnFail(NotFinalized, "cudnnBackendExecute: the variant pack is not finalized");
    auto uids = many<int64_t>(pack, 1000);
    auto ptrs = many<void*>(pack, 1001);
    std::map<int64_t, void*> pointers;
    for (size_t i = 0; i < uids.size(); i++) pointers[uids[i]] = ptrs[i];
    void* ws = pack->attrs.count(1003) ? one<void*>(pack, 1003) : nullptr;
    if (plan->workspace > 0 && ws == nullptr) return fakeCudnnFail(BadParam, "cudnnBackendExecute: the plan needs a workspace and the variant pack has none");
    return run(descAt(plan->graph, 801), pointers);
}
}
