using System.Runtime.InteropServices;
using System.Text;

namespace Engine.Cuda.Native;

// Values from cuDNN 9.6's include/cudnn_graph.h (typedef enums cudnnBackendDescriptorType_t,
// cudnnBackendAttributeName_t, cudnnBackendAttributeType_t, cudnnBackendHeurMode_t,
// cudnnBackendNumericalNote_t). The member names are the C names without their prefix, in
// PascalCase: CudnnBackendNames turns them back into the C spelling for error messages, so
// each C word must start a capital here (OPERATIONGRAPH_OPS is OperationgraphOps).

/// <summary>cudnnBackendDescriptorType_t (sequential from 0 in the header; only the ones used here).</summary>
public enum BackendDescriptorType
{
    Convolution = 1,
    Engine = 2,
    Enginecfg = 3,
    Engineheur = 4,
    ExecutionPlan = 5,
    OperationConvolutionForward = 10,
    OperationConvolutionBackwardFilter = 11,
    OperationConvolutionBackwardData = 12,
    Operationgraph = 15,
    VariantPack = 16,
    Tensor = 17,
}

/// <summary>cudnnBackendAttributeName_t (explicit values in the header).</summary>
public enum BackendAttribute
{
    ConvolutionCompType = 100,
    ConvolutionConvMode = 101,
    ConvolutionDilations = 102,
    ConvolutionFilterStrides = 103,
    ConvolutionPostPaddings = 104,
    ConvolutionPrePaddings = 105,
    ConvolutionSpatialDims = 106,

    EngineheurMode = 200,
    EngineheurOperationGraph = 201,
    EngineheurResults = 202,

    EnginecfgEngine = 300,

    ExecutionPlanHandle = 400,
    ExecutionPlanEngineConfig = 401,
    ExecutionPlanWorkspaceSize = 402,

    OperationConvolutionForwardAlpha = 700,
    OperationConvolutionForwardBeta = 701,
    OperationConvolutionForwardConvDesc = 702,
    OperationConvolutionForwardW = 703,
    OperationConvolutionForwardX = 704,
    OperationConvolutionForwardY = 705,
    OperationConvolutionBwdDataAlpha = 706,
    OperationConvolutionBwdDataBeta = 707,
    OperationConvolutionBwdDataConvDesc = 708,
    OperationConvolutionBwdDataW = 709,
    OperationConvolutionBwdDataDx = 710,
    OperationConvolutionBwdDataDy = 711,
    OperationConvolutionBwdFilterAlpha = 712,
    OperationConvolutionBwdFilterBeta = 713,
    OperationConvolutionBwdFilterConvDesc = 714,
    OperationConvolutionBwdFilterDw = 715,
    OperationConvolutionBwdFilterX = 716,
    OperationConvolutionBwdFilterDy = 717,

    OperationgraphHandle = 800,
    OperationgraphOps = 801,

    TensorByteAlignment = 900,
    TensorDataType = 901,
    TensorDimensions = 902,
    TensorStrides = 903,
    TensorUniqueId = 906,

    VariantPackUniqueIds = 1000,
    VariantPackDataPointers = 1001,
    VariantPackWorkspace = 1003,

    EngineNumericalNote = 1303,
}

/// <summary>cudnnBackendAttributeType_t (sequential from CUDNN_TYPE_HANDLE = 0 in the header).</summary>
public enum BackendAttributeType
{
    Handle = 0,
    DataType = 1,
    Boolean = 2,
    Int64 = 3,
    Float = 4,
    Double = 5,
    VoidPtr = 6,
    ConvolutionMode = 7,
    HeurMode = 8,
    NumericalNote = 11,
    BackendDescriptor = 15,
}

/// <summary>cudnnBackendHeurMode_t.</summary>
public enum BackendHeurMode
{
    Instant = 0,
    B = 1,
    Fallback = 2,
    A = 3,
}

/// <summary>cudnnBackendNumericalNote_t (sequential from 0): what an engine does to the numbers.</summary>
public enum BackendNumericalNote
{
    TensorCore = 0,
    DownConvertInputs = 1,
    ReducedPrecisionReduction = 2,
    Fft = 3,
    Nondeterministic = 4,
    Winograd = 5,
}

/// <summary>
/// cuDNN 9's backend (graph) API, cudnn_graph.h: descriptors built attribute by attribute,
/// finalized, and an execution plan run on a variant pack of device pointers.
/// </summary>
internal static unsafe partial class CudnnBackend
{
    private const string Lib = NativeLibraries.Cudnn;

    [LibraryImport(Lib)] public static partial int cudnnBackendCreateDescriptor(int descriptorType, out nint descriptor);
    [LibraryImport(Lib)] public static partial int cudnnBackendDestroyDescriptor(nint descriptor);
    [LibraryImport(Lib)] public static partial int cudnnBackendFinalize(nint descriptor);
    [LibraryImport(Lib)]
    public static partial int cudnnBackendSetAttribute(nint descriptor, int attributeName, int attributeType, long elementCount, void* elements);
    [LibraryImport(Lib)]
    public static partial int cudnnBackendGetAttribute(nint descriptor, int attributeName, int attributeType, long requestedElementCount,
        out long elementCount, void* elements);
    [LibraryImport(Lib)] public static partial int cudnnBackendExecute(nint handle, nint executionPlan, nint variantPack);
}

/// <summary>The C spellings of the backend enums, for error messages.</summary>
public static class CudnnBackendNames
{
    public static string Of(BackendDescriptorType t) => $"CUDNN_BACKEND_{Snake(t.ToString())}_DESCRIPTOR";
    public static string Of(BackendAttribute a) => $"CUDNN_ATTR_{Snake(a.ToString())}";
    public static string Of(BackendAttributeType t) => $"CUDNN_TYPE_{Snake(t.ToString())}";

    /// <summary>"OperationConvolutionForwardX" -> "OPERATION_CONVOLUTION_FORWARD_X"; a number stands for itself (an unnamed value).</summary>
    internal static string Snake(string pascal)
    {
        var b = new StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i])) b.Append('_');
            b.Append(char.ToUpperInvariant(pascal[i]));
        }
        return b.ToString();
    }
}
