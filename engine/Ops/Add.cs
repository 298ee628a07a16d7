using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>Elementwise sum of two tensors of the same shape.</summary>
public sealed partial class Add : Op
{
    public override string Type => "add";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        if (inputs[0] != inputs[1]) throw Bad($"shapes {inputs[0].DropFirst()} and {inputs[1].DropFirst()} differ");
        return [inputs[0]];
    }

    public override void Forward<T>(CpuNode<T> n)
    {
        var a = n.In(0);
        var b = n.In(1);
        var y = n.Out(0);
        for (int i = 0; i < y.Length; i++) y[i] = a[i] + b[i];
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        var dy = n.OutGrad(0);
        for (int k = 0; k < 2; k++)
        {
            if (!n.HasInGrad(k)) continue;
            var dx = n.InGrad(k);
            if (n.OverwriteInGrad(k)) dy.CopyTo(dx);
            else for (int i = 0; i < dy.Length; i++) dx[i] += dy[i];
        }
    }
}

public static partial class Layers
{
    public static Value Add(this GraphBuilder b, Value x, Value y, string? name = null) => b.Add1(new Add(), name ?? b.Unique("add"), x, y);
}
