using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>Mean of each (n, c) plane: NCHW to N x C x 1 x 1.</summary>
public sealed partial class GlobalAvgPool : Op
{
    public override string Type => "globalavgpool";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override (string Filters, string Size) Describe() => ("", "global");

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (x.Rank != 4) throw Bad($"expects an NCHW input, got {x.DropFirst()}");
        if (x[2] * x[3] == 0) throw Bad($"cannot average an empty {x[2]}x{x[3]} plane");
        return [new Shape(x[0], x[1], 1, 1)];
    }

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        var x = n.In(0);
        var y = n.Out(0);
        int plane = n.InShape(0)[2] * n.InShape(0)[3];
        var count = T.CreateTruncating(plane);
        for (int p = 0; p < y.Length; p++)
        {
            var sum = T.Zero;
            foreach (var v in x.Slice(p * plane, plane)) sum += v;
            y[p] = sum / count;
        }
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        if (!n.HasInGrad(0)) return;
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        int plane = n.InShape(0)[2] * n.InShape(0)[3];
        var count = T.CreateTruncating(plane);
        if (n.OverwriteInGrad(0)) for (int i = 0; i < dx.Length; i++) dx[i] = dy[i / plane] / count;
        else for (int i = 0; i < dx.Length; i++) dx[i] += dy[i / plane] / count;
    }
}

public static partial class Layers
{
    /// <summary>Averages each channel over its whole plane: N x C x 1 x 1.</summary>
    public static Value GlobalAvgPool(this GraphBuilder b, Value x, string? name = null)
        => b.Add1(new GlobalAvgPool(), name ?? b.Unique("gap"), x);
}
