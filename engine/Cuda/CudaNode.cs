using Engine.Graph;
using Engine.Tensors;

namespace Engine.Cuda;

/// <summary>
/// What an op's GPU path sees of one node: shapes, device addresses of its slices, the
/// backend's stream, kernels and libraries, and per-node scratch memory kept from forward to
/// backward. Mirrors <see cref="CpuNode{T}"/>; backward ACCUMULATES here too.
/// </summary>
public sealed class CudaNode : IDisposable
{
    public const int BlockSize = 256;

    private readonly NodeRun _run;
    private readonly Dictionary<int, (DevicePtr Ptr, long Bytes)> _scratch = [];
    private readonly List<IDisposable> _owned = [];
    private HostFallback? _host;

    internal CudaNode(CudaBackend backend, NodeRun run)
    {
        Backend = backend;
        _run = run;
    }

    public CudaBackend Backend { get; }
    public CudaStream Stream => Backend.Stream;
    public Node Node => _run.Node;
    public bool Training => _run.Training;
    public int Batch => _run.Batch;
    public ulong Seed => _run.Seed;
    public long Step => _run.Step;
    public long ExampleOffset => _run.ExampleOffset;
    /// <summary>Where <see cref="Step"/> lies in device memory (a 64-bit integer), written before each step.</summary>
    public DevicePtr StepScalar => CudaBackend.Ptr(_run.StepScalar);
    internal NodeRun Run => _run;

    public int InputCount => _run.In.Length;
    public Shape InShape(int i) => _run.InShapes[i];
    public TensorDesc InDesc(int i) => _run.InDescs[i];
    public TensorDesc OutDesc(int i) => _run.OutDescs[i];
    public Shape OutShape(int i) => _run.OutShapes[i];

    /// <summary>Elements from one sample of input i to the next (see <see cref="CpuNode{T}.InSampleStride"/>).</summary>
    public long InSampleStride(int i) => _run.InSampleStride(i);
    /// <summary>Elements from one sample of output i to the next (see <see cref="CpuNode{T}.OutSampleStride"/>).</summary>
    public long OutSampleStride(int i) => _run.OutSampleStride(i);

    /// <summary>Whether input i already lies in its slice of output 0 (a concatenation's zero-copy part).</summary>
    public bool InputIsViewOfOutput(int i) => _run.InAliasesOutput?[i] ?? false;

    public DevicePtr In(int i) => CudaBackend.Ptr(_run.In[i]);
    public DevicePtr Out(int i) => CudaBackend.Ptr(_run.Out[i]);
    public bool HasInGrad(int i) => _run.InGrad[i] is not null;
    /// <summary>Whether input i's gradient is to be written (beta = 0) rather than accumulated, for ops whose GPU path declares <see cref="ICudaOp.CudaOverwritesInputGradient"/>; the backend zeroes it first for the others.</summary>
    public bool OverwriteInGrad(int i) => _run.OverwritesInGrad(i);
    /// <summary>Input i's gradient, to be ACCUMULATED into.</summary>
    public DevicePtr InGrad(int i) => CudaBackend.Ptr(_run.InGrad[i] ?? throw new InvalidOperationException($"{Node.Name}: input {i} takes no gradient"));
    public DevicePtr OutGrad(int i) => CudaBackend.Ptr(_run.OutGrad[i] ?? throw new InvalidOperationException($"{Node.Name}: output {i} has no gradient"));
    public DevicePtr Param(int j) => CudaBackend.Ptr(_run.Params[j]);
    /// <summary>The node's saved scratch in the arena (<see cref="OpBase.SavedScratch"/>).</summary>
    public DevicePtr SavedScratch => CudaBackend.Ptr(_run.SavedScratch ?? throw new InvalidOperationException($"{Node.Name}: no saved scratch was planned"));
    /// <summary>Parameter j's gradient, to be ACCUMULATED into.</summary>
    public DevicePtr ParamGrad(int j) => CudaBackend.Ptr(_run.ParamGrads[j]);
    public DevicePtr State(int j) => CudaBackend.Ptr(_run.States[j]);

    /// <summary>Whatever the op keeps between calls (descriptors, plans).</summary>
    public object? Saved { get; set; }

    /// <summary>Device memory of at least <paramref name="bytes"/> for this node, kept across steps (contents persist until it grows).</summary>
    public DevicePtr Scratch(int slot, long bytes)
    {
        if (_scratch.TryGetValue(slot, out var s) && s.Bytes >= bytes) return s.Ptr;
        if (s.Bytes > 0) Backend.Allocator.Free(s.Ptr, s.Bytes);
        var p = Backend.Allocator.Allocate(Math.Max(bytes, 4), out var block);
        _scratch[slot] = (p, block);
        return p;
    }

    /// <summary>Ties a native resource (descriptor, plan) to this node's lifetime.</summary>
    public T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public CudaFunction Kernel(string name) => Backend.Kernels.Get(name);

    public void Launch(string kernel, Dim3 grid, Dim3 block, scoped ref KernelArgs args, uint sharedBytes = 0) =>
        Stream.Launch(Kernel(kernel), grid, block, ref args, sharedBytes);

    /// <summary>kernels/ABI.md's "elementwise grid": clamp(ceil(n / 1024), 1, 32 * SMs).</summary>
    public Dim3 ElementwiseGrid(long n) => Clamp((n + 1023) / 1024);

    /// <summary>One thread per item in blocks of <paramref name="block"/>, capped at 32 blocks per SM (kernels grid-stride).</summary>
    public Dim3 ThreadGrid(long items, int block = BlockSize) => Clamp((items + block - 1) / block);

    /// <summary>clamp(blocks, 1, 32 * SMs).</summary>
    public Dim3 Clamp(long blocks) => (uint)Math.Clamp(blocks, 1, 32L * Backend.Device.Info.Multiprocessors);

    /// <summary>Runs the op's CPU reference on host copies of this node's data (the path of ops without a GPU path).</summary>
    public void RunOnHost(bool forward)
    {
        Backend.NoteHostFallback($"{Node.Op.Type} {(forward ? "forward" : "backward")}");
        (_host ??= new HostFallback(this)).Run(forward);
    }

    public void Dispose()
    {
        foreach (var (p, bytes) in _scratch.Values) Backend.Allocator.Free(p, bytes);
        _scratch.Clear();
        foreach (var o in _owned) o.Dispose();
        _owned.Clear();
        _host?.Dispose();
        _host = null;
    }
}
