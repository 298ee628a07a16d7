using System.Numerics;
using Engine.Tensors;

namespace Engine.Graph;

/// <summary>What an op's CPU reference sees of one node: shapes and spans at the executor's batch size.</summary>
public sealed class CpuNode<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly NodeRun _run;
    private readonly Dictionary<int, Array> _scratch = [];
    private T[]?[]? _productCopies;

    internal CpuNode(NodeRun run) { _run = run; }

    public Node Node => _run.Node;
    public bool Training => _run.Training;
    public int Batch => _run.Batch;
    public ulong Seed => _run.Seed;
    public long Step => _run.Step;
    public long ExampleOffset => _run.ExampleOffset;

    public Shape InShape(int i) => _run.InShapes[i];
    public TensorDesc InDesc(int i) => _run.InDescs[i];
    public TensorDesc OutDesc(int i) => _run.OutDescs[i];
    public Shape OutShape(int i) => _run.OutShapes[i];
    /// <summary>Whether input i (a 4-D value) is stored NHWC: [N, H, W, C] with channels contiguous (engine/Graph/LAYOUT.md).</summary>
    public bool InNhwc(int i) => i < _run.InDescs.Length && _run.InDescs[i].Layout == Layout.Nhwc;

    /// <summary>
    /// Elements from one sample of input i to the next: the per-sample size when the value is
    /// contiguous, more when it is a channel slice of a concatenation (only for ops that declare
    /// <see cref="Op.ReadsStridedInput"/>). The input's gradient has the same stride.
    /// </summary>
    public long InSampleStride(int i) => _run.InSampleStride(i);
    /// <summary>As <see cref="InSampleStride"/>, for output i and its gradient (<see cref="Op.WritesStridedOutput"/>).</summary>
    public long OutSampleStride(int i) => _run.OutSampleStride(i);

    /// <summary>Whether input i already lies in its slice of output 0 (a concatenation's zero-copy part).</summary>
    public bool InputIsViewOfOutput(int i) => _run.InAliasesOutput?[i] ?? false;

    public Span<T> In(int i) => CpuBackend<T>.F(_run.In[i]);
    public Span<int> InInt(int i) => CpuBackend<T>.I(_run.In[i]);
    public Span<T> Out(int i) => CpuBackend<T>.F(_run.Out[i]);
    public Span<int> OutInt(int i) => CpuBackend<T>.I(_run.Out[i]);

    /// <summary>Whether backward must produce input i's gradient.</summary>
    public bool HasInGrad(int i) => _run.InGrad[i] is not null;
    /// <summary>Whether backward writes input i's gradient with `=` this time (<see cref="OpBase.OverwritesInputGradient"/>): it holds garbage until then.</summary>
    public bool OverwriteInGrad(int i) => _run.OverwritesInGrad(i);
    /// <summary>Input i's gradient, to be ACCUMULATED into (+=), or written (=) where <see cref="OverwriteInGrad"/> says so.</summary>
    public Span<T> InGrad(int i) => CpuBackend<T>.F(_run.InGrad[i] ?? throw new InvalidOperationException($"{Node.Name}: input {i} takes no gradient"));
    public Span<T> OutGrad(int i) => CpuBackend<T>.F(_run.OutGrad[i] ?? throw new InvalidOperationException($"{Node.Name}: output {i} has no gradient"));

    /// <summary>Parameter j as the op computes with it: in a bf16 run a bf16 copy of a product operand (<see cref="OpBase.ParameterIsProductOperand"/>), else the master.</summary>
    public Span<T> Param(int j) => _productCopies?[j] is { } copy ? copy : CpuBackend<T>.F(_run.Params[j]);
    /// <summary>Parameter j's gradient, to be ACCUMULATED into (+=).</summary>
    public Span<T> ParamGrad(int j) => CpuBackend<T>.F(_run.ParamGrads[j]);
    public Span<T> State(int j) => CpuBackend<T>.F(_run.States[j]);

    /// <summary>The node's saved scratch (<see cref="OpBase.SavedScratch"/>) as integers.</summary>
    public Span<int> SavedScratchInts() => CpuBackend<T>.I(_run.SavedScratch ?? throw new InvalidOperationException($"{Node.Name}: no saved scratch was planned"));

    /// <summary>Whatever the op keeps from forward for backward (masks, statistics).</summary>
    public object? Saved { get; set; }

    /// <summary>A per-node array reused across steps, grown on demand (contents are not cleared).</summary>
    public TElem[] Scratch<TElem>(int slot, long count)
    {
        if (_scratch.TryGetValue(slot, out var a) && a is TElem[] t && t.LongLength >= count) return t;
        var fresh = new TElem[count];
        _scratch[slot] = fresh;
        return fresh;
    }

    /// <summary>Refreshes the bf16 copies of the product operands from the masters (before each forward of a bf16 run).</summary>
    internal void CopyProductOperandsToBf16()
    {
        for (int j = 0; j < _run.Params.Length; j++)
        {
            if (!Node.Op.ParameterIsProductOperand(j)) continue;
            _productCopies ??= new T[]?[_run.Params.Length];
            var master = CpuBackend<T>.F(_run.Params[j]);
            var copy = _productCopies[j] ??= new T[master.Length];
            master.CopyTo(copy);
            Bf16.Round(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(copy.AsSpan()));
        }
    }

    internal void Forward() => Node.Op.Forward(this);
    internal void Backward() => Node.Op.Backward(this);
    internal void Recompute() => Node.Op.Recompute(this);
}
