using System.Runtime.InteropServices;

namespace Engine.Cuda.Native;

/// <summary>
/// Result of cuDNN's algorithm queries: cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t, which
/// share this shape ({ int algo; int status; float time; size_t memory; int determinism;
/// int mathType; int reserved[3]; }).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct ConvolutionAlgoPerf
{
    public int Algo;
    public int Status;
    public float TimeMs;
    public nuint Memory;
    public int Determinism;
    public int MathType;
    public int Reserved0;
    public int Reserved1;
    public int Reserved2;
}

/// <summary>
/// cuDNN 9's legacy API (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h), the entry points the engine
/// calls. Mind the argument orders: tensors take (format, dataType), filters (dataType, format).
/// alpha and beta point at host floats for float data; beta = 1 accumulates.
/// </summary>
internal static unsafe partial class Cudnn
{
    private const string Lib = NativeLibraries.Cudnn;

    public const int TensorNchw = 0;
    public const int TensorNhwc = 1;
    public const int DataFloat = 0;
    public const int DataDouble = 1;
    public const int DataHalf = 2;
    public const int DataBfloat16 = 9;
    public const int CrossCorrelation = 1;
    public const int MathDefault = 0;
    public const int MathTensorOp = 1;
    public const int MathTensorOpAllowConversion = 2;
    public const int MathFma = 3;
    public const int BatchNormPerActivation = 0;
    public const int BatchNormSpatial = 1;
    public const int BatchNormSpatialPersistent = 2;
    /// <summary>CUDNN_BN_MIN_EPSILON: cuDNN rejects a smaller epsilon.</summary>
    public const double BatchNormMinEpsilon = 1e-5;

    [LibraryImport(Lib)] public static partial nuint cudnnGetVersion();
    [LibraryImport(Lib)] public static partial byte* cudnnGetErrorString(int status);
    [LibraryImport(Lib)] public static partial void cudnnGetLastErrorString(byte* message, nuint maxSize);
    [LibraryImport(Lib)] public static partial int cudnnCreate(out nint handle);
    [LibraryImport(Lib)] public static partial int cudnnDestroy(nint handle);
    [LibraryImport(Lib)] public static partial int cudnnSetStream(nint handle, nint stream);

    [LibraryImport(Lib)] public static partial int cudnnCreateTensorDescriptor(out nint desc);
    [LibraryImport(Lib)] public static partial int cudnnSetTensor4dDescriptor(nint desc, int format, int dataType, int n, int c, int h, int w);
    [LibraryImport(Lib)]
    public static partial int cudnnSetTensor4dDescriptorEx(nint desc, int dataType, int n, int c, int h, int w,
        int nStride, int cStride, int hStride, int wStride);
    [LibraryImport(Lib)] public static partial int cudnnDestroyTensorDescriptor(nint desc);
    [LibraryImport(Lib)] public static partial int cudnnCreateFilterDescriptor(out nint desc);
    [LibraryImport(Lib)] public static partial int cudnnSetFilter4dDescriptor(nint desc, int dataType, int format, int k, int c, int h, int w);
    [LibraryImport(Lib)] public static partial int cudnnDestroyFilterDescriptor(nint desc);
    [LibraryImport(Lib)] public static partial int cudnnAddTensor(nint handle, void* alpha, nint aDesc, ulong a, void* beta, nint cDesc, ulong c);

    [LibraryImport(Lib)] public static partial int cudnnCreateConvolutionDescriptor(out nint desc);
    [LibraryImport(Lib)]
    public static partial int cudnnSetConvolution2dDescriptor(nint desc, int padH, int padW, int strideH, int strideW,
        int dilationH, int dilationW, int mode, int computeType);
    [LibraryImport(Lib)] public static partial int cudnnSetConvolutionMathType(nint desc, int mathType);
    [LibraryImport(Lib)] public static partial int cudnnSetConvolutionGroupCount(nint desc, int groups);
    [LibraryImport(Lib)] public static partial int cudnnDestroyConvolutionDescriptor(nint desc);

    [LibraryImport(Lib)]
    public static partial int cudnnGetConvolutionForwardAlgorithm_v7(nint handle, nint xDesc, nint wDesc, nint convDesc, nint yDesc,
        int requested, out int returned, ConvolutionAlgoPerf* perf);
    [LibraryImport(Lib)]
    public static partial int cudnnGetConvolutionBackwardDataAlgorithm_v7(nint handle, nint wDesc, nint dyDesc, nint convDesc, nint dxDesc,
        int requested, out int returned, ConvolutionAlgoPerf* perf);
    [LibraryImport(Lib)]
    public static partial int cudnnGetConvolutionBackwardFilterAlgorithm_v7(nint handle, nint xDesc, nint dyDesc, nint convDesc, nint dwDesc,
        int requested, out int returned, ConvolutionAlgoPerf* perf);

    [LibraryImport(Lib)]
    public static partial int cudnnFindConvolutionForwardAlgorithmEx(nint handle, nint xDesc, ulong x, nint wDesc, ulong w, nint convDesc,
        nint yDesc, ulong y, int requested, out int returned, ConvolutionAlgoPerf* perf, ulong workspace, nuint workspaceBytes);
    [LibraryImport(Lib)]
    public static partial int cudnnFindConvolutionBackwardDataAlgorithmEx(nint handle, nint wDesc, ulong w, nint dyDesc, ulong dy, nint convDesc,
        nint dxDesc, ulong dx, int requested, out int returned, ConvolutionAlgoPerf* perf, ulong workspace, nuint workspaceBytes);
    [LibraryImport(Lib)]
    public static partial int cudnnFindConvolutionBackwardFilterAlgorithmEx(nint handle, nint xDesc, ulong x, nint dyDesc, ulong dy, nint convDesc,
        nint dwDesc, ulong dw, int requested, out int returned, ConvolutionAlgoPerf* perf, ulong workspace, nuint workspaceBytes);

    [LibraryImport(Lib)]
    public static partial int cudnnGetConvolutionForwardWorkspaceSize(nint handle, nint xDesc, nint wDesc, nint convDesc, nint yDesc, int algo, out nuint bytes);
    [LibraryImport(Lib)]
    public static partial int cudnnGetConvolutionBackwardDataWorkspaceSize(nint handle, nint wDesc, nint dyDesc, nint convDesc, nint dxDesc, int algo, out nuint bytes);
    [LibraryImport(Lib)]
    public static partial int cudnnGetConvolutionBackwardFilterWorkspaceSize(nint handle, nint xDesc, nint dyDesc, nint convDesc, nint dwDesc, int algo, out nuint bytes);

    [LibraryImport(Lib)]
    public static partial int cudnnConvolutionForward(nint handle, void* alpha, nint xDesc, ulong x, nint wDesc, ulong w, nint convDesc, int algo,
        ulong workspace, nuint workspaceBytes, void* beta, nint yDesc, ulong y);
    [LibraryImport(Lib)]
    public static partial int cudnnConvolutionBackwardData(nint handle, void* alpha, nint wDesc, ulong w, nint dyDesc, ulong dy, nint convDesc, int algo,
        ulong workspace, nuint workspaceBytes, void* beta, nint dxDesc, ulong dx);
    [LibraryImport(Lib)]
    public static partial int cudnnConvolutionBackwardFilter(nint handle, void* alpha, nint xDesc, ulong x, nint dyDesc, ulong dy, nint convDesc, int algo,
        ulong workspace, nuint workspaceBytes, void* beta, nint dwDesc, ulong dw);
    [LibraryImport(Lib)]
    public static partial int cudnnConvolutionBackwardBias(nint handle, void* alpha, nint dyDesc, ulong dy, void* beta, nint dbDesc, ulong db);

    [LibraryImport(Lib)] public static partial int cudnnDeriveBNTensorDescriptor(nint derivedDesc, nint xDesc, int mode);
    [LibraryImport(Lib)]
    public static partial int cudnnBatchNormalizationForwardTraining(nint handle, int mode, void* alpha, void* beta,
        nint xDesc, ulong x, nint yDesc, ulong y, nint bnDesc, ulong scale, ulong bias, double exponentialAverageFactor,
        ulong runningMean, ulong runningVariance, double epsilon, ulong saveMean, ulong saveInvVariance);
    [LibraryImport(Lib)]
    public static partial int cudnnBatchNormalizationForwardInference(nint handle, int mode, void* alpha, void* beta,
        nint xDesc, ulong x, nint yDesc, ulong y, nint bnDesc, ulong scale, ulong bias,
        ulong estimatedMean, ulong estimatedVariance, double epsilon);
    [LibraryImport(Lib)]
    public static partial int cudnnBatchNormalizationBackward(nint handle, int mode, void* alphaDataDiff, void* betaDataDiff,
        void* alphaParamDiff, void* betaParamDiff, nint xDesc, ulong x, nint dyDesc, ulong dy, nint dxDesc, ulong dx,
        nint bnDesc, ulong scale, ulong dScale, ulong dBias, double epsilon, ulong savedMean, ulong savedInvVariance);

    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException("cuDNN", call, status, StatusName(status), LastError());
    }

    public static string StatusName(int status)
    {
        try
        {
            if (NativeLibraries.TryLoadCudnn(out _) && cudnnGetErrorString(status) is var p && p != null
                && Marshal.PtrToStringUTF8((nint)p) is { Length: > 0 } name && name.StartsWith("CUDNN_STATUS", StringComparison.Ordinal))
                return name;
        }
        catch (EntryPointNotFoundException) { }
        return ErrorNames.ForCudnn(status);
    }

    /// <summary>cuDNN 9's description of the last failure on this thread (which descriptor or value it disliked).</summary>
    private static string? LastError()
    {
        try
        {
            if (!NativeLibraries.TryLoadCudnn(out _)) return null;
            var buffer = stackalloc byte[1024];
            buffer[0] = 0;
            cudnnGetLastErrorString(buffer, 1024);
            var text = Marshal.PtrToStringUTF8((nint)buffer);
            return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>"9.10.2" from cudnnGetVersion (major * 10000 + minor * 100 + patch since cuDNN 9).</summary>
    public static string Version()
    {
        var v = (long)cudnnGetVersion();
        return v >= 90000 ? $"{v / 10000}.{v / 100 % 100}.{v % 100}" : $"{v / 1000}.{v / 100 % 10}.{v % 100}";
    }
}
