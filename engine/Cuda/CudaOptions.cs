namespace Engine.Cuda;

/// <summary>How cuDNN picks convolution algorithms.</summary>
public enum ConvAlgorithmSearch
{
    /// <summary>cuDNN's heuristics (cudnnGet*Algorithm_v7): instant, usually good.</summary>
    Heuristic,
    /// <summary>Time every algorithm once per shape (cudnnFind*AlgorithmEx): slower first step, best kernels.</summary>
    Benchmark,
}

/// <summary>Which cuDNN API runs convolutions.</summary>
public enum ConvApi
{
    /// <summary>cudnnConvolutionForward and its backward siblings (deprecated in cuDNN 9, still shipped).</summary>
    Legacy,
    /// <summary>The backend (graph) API: an operation graph per convolution, engine heuristics, cached execution plans; legacy where no engine takes a problem.</summary>
    Graph,
}

/// <summary>Switches of a CUDA backend. The defaults favour agreement with the CPU reference.</summary>
public sealed record CudaOptions
{
    /// <summary>
    /// fp32, or tf32 (cuBLAS and cuDNN use TF32 tensor cores for float32: faster, ~1e-3 relative
    /// error); null: the device's default (<see cref="CudaBackend.DefaultPrecision"/>). bf16 and
    /// fp64 are refused by <see cref="CudaBackend.Create"/> (the GPU bf16 path is not built yet).
    /// </summary>
    public Engine.Graph.Precision? Precision { get; init; }
    /// <summary>
    /// How activations are stored; null: the device's default (<see cref="CudaBackend.DefaultLayout"/>).
    /// NHWC is refused by <see cref="CudaBackend.Create"/> until the GPU's NHWC kernels are wired (engine/Graph/LAYOUT.md).
    /// </summary>
    public Engine.Tensors.Layout? Layout { get; init; }
    /// <summary>Whether cuBLAS and cuDNN may use TF32 tensor cores.</summary>
    public bool Tf32 => Precision == Engine.Graph.Precision.Tf32;
    /// <summary>Synchronise after every kernel launch so that a failure is reported at the kernel that caused it.</summary>
    public bool SyncDebug { get; init; }
    /// <summary>Only convolution algorithms cuDNN marks deterministic (bitwise-reproducible gradients).</summary>
    public bool Deterministic { get; init; } = true;
    public ConvAlgorithmSearch ConvSearch { get; init; } = ConvAlgorithmSearch.Heuristic;
    /// <summary>Legacy until the graph API is measured on a GPU (engine/Cuda/README.md).</summary>
    public ConvApi ConvApi { get; init; } = ConvApi.Legacy;
    /// <summary>Where one-line notices go (a graph-API convolution falling back to the legacy API); null: standard error.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Largest cuDNN workspace an algorithm may ask for.</summary>
    public long WorkspaceLimitBytes { get; init; } = 1L << 30;
}
