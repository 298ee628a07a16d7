using System.Numerics;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>y = max(x, 0); the gradient at exactly 0 is taken as 0.</summary>
public sealed partial class Relu : Op
{
    public override string Type => "relu";
    public override Shape[] InferShapes(Shape[] inputs) => [inputs[0]];

    public override void Forward<T>(CpuNode<T> n)
    {
        var x = n.In(0);
        var y = n.Out(0);
        for (int i = 0; i < x.Length; i++) y[i] = x[i] > T.Zero ? x[i] : T.Zero;
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (!n.HasInGrad(0)) return;
        var x = n.In(0);
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        for (int i = 0; i < x.Length; i++) if (x[i] > T.Zero) dx[i] += dy[i];
    }
}

public static partial class Layers
{
    public static Value Relu(this GraphBuilder b, Value x, string? name = null) => b.Add1(new Relu(), name ?? b.Unique("relu"), x);
}
