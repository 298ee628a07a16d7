using System.Numerics;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Inverted dropout: in training, element i is kept and scaled by 1 / (1 - p) iff
/// <c>Rng.HashUniform(seed, nodeIndex * 2^32 + step, exampleOffset * sampleSize + i) &gt;= p</c>, else zeroed
/// (the example offset is a data-parallel rank's first global example, 0 in one process); in
/// evaluation it is the identity. The mask is a stateless hash, so backward recomputes it and a
/// GPU kernel reproduces it exactly (HashUniform is k / 2^24, so the test is the integer
/// comparison k &gt;= ceil(p * 2^24)).
/// </summary>
public sealed partial class Dropout : Op
{
    public Dropout(double p = 0.5)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1)");
        P = p;
    }

    public double P { get; }

    /// <summary>Factor applied to kept elements, 1 / (1 - p), computed in double.</summary>
    public double Scale => 1.0 / (1.0 - P);

    public override string Type => "dropout";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override (string Filters, string Size) Describe() => ("", $"p={P:0.###}");
    public override Shape[] InferShapes(Shape[] inputs) => [inputs[0]];

    /// <summary>The hash stream of one node at one training step.</summary>
    public static ulong Stream(int nodeIndex, long step) => ((ulong)nodeIndex << 32) + (ulong)step;

    /// <summary>Whether element <paramref name="index"/> survives.</summary>
    public bool Keeps(ulong seed, ulong stream, long index) => Rng.HashUniform(seed, stream, (ulong)index) >= P;

    private bool Active<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> => n.Training && P > 0;

    public override void Forward<T>(CpuNode<T> n)
    {
        var x = n.In(0);
        var y = n.Out(0);
        if (!Active(n)) { x.CopyTo(y); return; }
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        var scale = T.CreateTruncating(Scale);
        ulong stream = Stream(n.Node.Index, n.Step);
        long first = FirstIndex(n);
        for (int i = 0; i < y.Length; i++) y[i] = Keeps(n.Seed, stream, first + i) ? x[i] * scale : T.Zero;
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (!n.HasInGrad(0)) return;
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        bool overwrite = n.OverwriteInGrad(0);
        if (!Active(n))
        {
            for (int i = 0; i < dx.Length; i++) dx[i] = overwrite ? dy[i] : dx[i] + dy[i];
            return;
        }
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        var scale = T.CreateTruncating(Scale);
        ulong stream = Stream(n.Node.Index, n.Step);
        long first = FirstIndex(n);
        for (int i = 0; i < dx.Length; i++)
        {
            var g = Keeps(n.Seed, stream, first + i) ? dy[i] * scale : T.Zero;
            dx[i] = overwrite ? g : dx[i] + g;
        }
    }

    /// <summary>The hash index of this batch's first element: its first example's global index times the sample size.</summary>
    private static long FirstIndex<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> => n.ExampleOffset * (n.InShape(0).Numel / n.Batch);
}

public static partial class Layers
{
    /// <summary>Inverted dropout with probability <paramref name="p"/> in training; the identity in evaluation.</summary>
    public static Value Dropout(this GraphBuilder b, Value x, double p = 0.5, string? name = null)
        => b.Add1(new Dropout(p), name ?? b.Unique("dropout"), x);
}
