using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>A chosen cuDNN algorithm and the workspace it needs.</summary>
public readonly record struct ConvAlgorithm(int Algo, long WorkspaceBytes, int MathType);

/// <summary>
/// cuDNN algorithm choices per convolution shape, made once (heuristics or a benchmark, as the
/// options say) and kept for every later step with that shape.
/// </summary>
public sealed unsafe class ConvAlgorithmCache(Dnn dnn)
{
    private const int Requested = 16;
    private readonly Dictionary<(ConvShape, long XSampleStride, Pass), ConvAlgorithm> _chosen = [];

    public enum Pass { Forward, BackwardData, BackwardFilter }

    public int Count => _chosen.Count;

    /// <summary>The algorithm for <paramref name="pass"/>; <paramref name="find"/> runs the benchmark with real buffers when the options ask for one.</summary>
    public ConvAlgorithm Get(ConvDescriptors d, Pass pass, Func<ConvAlgorithmFind>? find = null)
    {
        if (_chosen.TryGetValue((d.Shape, d.XSampleStride, pass), out var a)) return a;
        var perf = stackalloc ConvolutionAlgoPerf[Requested];
        int returned;
        if (dnn.Options.ConvSearch == ConvAlgorithmSearch.Benchmark && find is not null)
        {
            try { returned = find().Run(dnn, d, pass, perf, Requested); }
            finally { dnn.ReleaseFindScratch(); }
        }
        else
            returned = Heuristic(d, pass, perf);
        a = Choose(d, pass, new ReadOnlySpan<ConvolutionAlgoPerf>(perf, returned));
        _chosen[(d.Shape, d.XSampleStride, pass)] = a;
        return a;
    }

    private int Heuristic(ConvDescriptors d, Pass pass, ConvolutionAlgoPerf* perf)
    {
        int returned;
        switch (pass)
        {
            case Pass.Forward:
                Cudnn.Check(Cudnn.cudnnGetConvolutionForwardAlgorithm_v7(dnn.Handle, d.X.Handle, d.Filter, d.Conv, d.Y.Handle, Requested, out returned, perf),
                    "cudnnGetConvolutionForwardAlgorithm_v7");
                break;
            case Pass.BackwardData:
                Cudnn.Check(Cudnn.cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn.Handle, d.Filter, d.Y.Handle, d.Conv, d.X.Handle, Requested, out returned, perf),
                    "cudnnGetConvolutionBackwardDataAlgorithm_v7");
                break;
            default:
                Cudnn.Check(Cudnn.cudnnGetConvolutionBackwardFilterAlgorithm_v7(dnn.Handle, d.X.Handle, d.Y.Handle, d.Conv, d.Filter, Requested, out returned, perf),
                    "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
                break;
        }
        return returned;
    }

    /// <summary>The first (cuDNN orders them best first) usable result: succeeded, fits the workspace limit, deterministic if required.</summary>
    internal static int Pick(ReadOnlySpan<ConvolutionAlgoPerf> results, long workspaceLimit, bool deterministic)
    {
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < results.Length; i++)
            {
                var r = results[i];
                if (r.Status != 0 || (long)r.Memory > workspaceLimit) continue;
                if (pass == 0 && deterministic && r.Determinism != 1) continue;
                return i;
            }
        return -1;
    }

    private ConvAlgorithm Choose(ConvDescriptors d, Pass pass, ReadOnlySpan<ConvolutionAlgoPerf> results)
    {
        int i = Pick(results, dnn.Options.WorkspaceLimitBytes, dnn.Options.Deterministic);
        if (i < 0)
            throw new CudaException("cuDNN", $"choosing a convolution {pass} algorithm", 3000, "CUDNN_STATUS_NOT_SUPPORTED",
                $"none of {results.Length} algorithms works for {d.Shape} within {dnn.Options.WorkspaceLimitBytes >> 20} MiB of workspace");
        var algo = results[i].Algo;
        nuint bytes;
        switch (pass)
        {
            case Pass.Forward:
                Cudnn.Check(Cudnn.cudnnGetConvolutionForwardWorkspaceSize(dnn.Handle, d.X.Handle, d.Filter, d.Conv, d.Y.Handle, algo, out bytes),
                    "cudnnGetConvolutionForwardWorkspaceSize");
                break;
            case Pass.BackwardData:
                Cudnn.Check(Cudnn.cudnnGetConvolutionBackwardDataWorkspaceSize(dnn.Handle, d.Filter, d.Y.Handle, d.Conv, d.X.Handle, algo, out bytes),
                    "cudnnGetConvolutionBackwardDataWorkspaceSize");
                break;
            default:
                Cudnn.Check(Cudnn.cudnnGetConvolutionBackwardFilterWorkspaceSize(dnn.Handle, d.X.Handle, d.Y.Handle, d.Conv, d.Filter, algo, out bytes),
                    "cudnnGetConvolutionBackwardFilterWorkspaceSize");
                break;
        }
        return new ConvAlgorithm(algo, (long)bytes, results[i].MathType);
    }
}

/// <summary>
/// Buffers for cuDNN's benchmark (cudnnFind*AlgorithmEx), which runs every algorithm and so
/// writes its output: the caller passes scratch outputs where the real ones accumulate.
/// </summary>
public sealed unsafe class ConvAlgorithmFind(DevicePtr x, DevicePtr w, DevicePtr y, long workspaceBytes)
{
    internal int Run(Dnn dnn, ConvDescriptors d, ConvAlgorithmCache.Pass pass, ConvolutionAlgoPerf* perf, int requested)
    {
        var (ws, wsBytes) = dnn.Workspace(workspaceBytes);
        int returned;
        switch (pass)
        {
            case ConvAlgorithmCache.Pass.Forward:
                Cudnn.Check(Cudnn.cudnnFindConvolutionForwardAlgorithmEx(dnn.Handle, d.X.Handle, x.Address, d.Filter, w.Address, d.Conv,
                    d.Y.Handle, y.Address, requested, out returned, perf, ws.Address, (nuint)wsBytes), "cudnnFindConvolutionForwardAlgorithmEx");
                break;
            case ConvAlgorithmCache.Pass.BackwardData: // x is dx (scratch), y is dy
                Cudnn.Check(Cudnn.cudnnFindConvolutionBackwardDataAlgorithmEx(dnn.Handle, d.Filter, w.Address, d.Y.Handle, y.Address, d.Conv,
                    d.X.Handle, x.Address, requested, out returned, perf, ws.Address, (nuint)wsBytes), "cudnnFindConvolutionBackwardDataAlgorithmEx");
                break;
            default: // w is dw (scratch), y is dy
                Cudnn.Check(Cudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx(dnn.Handle, d.X.Handle, x.Address, d.Y.Handle, y.Address, d.Conv,
                    d.Filter, w.Address, requested, out returned, perf, ws.Address, (nuint)wsBytes), "cudnnFindConvolutionBackwardFilterAlgorithmEx");
                break;
        }
        return returned;
    }
}
