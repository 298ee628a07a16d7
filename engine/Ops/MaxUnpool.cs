using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Inverse of max pooling with indices (SegNet's decoder): zero-fills an
/// outHeight x outWidth plane and puts each value at its index h * W + w within its (n, c)
/// plane; when indices repeat, the last value in memory order wins (as PyTorch's CPU path).
/// Backward gathers dy at each index.
/// </summary>
public sealed partial class MaxUnpool(int outHeight, int outWidth) : Op
{
    public int OutHeight => outHeight;
    public int OutWidth => outWidth;

    public override string Type => "maxunpool";
    public override bool BackwardReadsInput(int input) => input == 1;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override (string Filters, string Size) Describe() => ("", $"{outHeight}x{outWidth}");
    public override DataType InputType(int input) => input == 1 ? DataType.I32 : DataType.F32;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var (x, idx) = (inputs[0], inputs[1]);
        if (x.Rank != 4) throw Bad($"expects an NCHW input, got {x.DropFirst()}");
        if (idx != x) throw Bad($"indices of shape {idx.DropFirst()} do not match the values' {x.DropFirst()}");
        if (outHeight < 1 || outWidth < 1) throw Bad($"output size {outHeight}x{outWidth} must be positive");
        return [new Shape(x[0], x[1], outHeight, outWidth)];
    }

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        int plane = outHeight * outWidth, inPlane = n.InShape(0)[2] * n.InShape(0)[3];
        // One (n, c) plane per item: zeroed, then scattered in memory order, so a repeated index keeps the last value.
        ParallelWork.For(n.InShape(0)[0] * n.InShape(0)[1], plane, p =>
        {
            var xs = n.In(0).Slice(p * inPlane, inPlane);
            var ids = n.InInt(1).Slice(p * inPlane, inPlane);
            var ys = n.Out(0).Slice(p * plane, plane);
            ys.Clear();
            for (int i = 0; i < inPlane; i++) ys[Checked(n, ids[i], p * inPlane + i)] = xs[i];
        });
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        if (!n.HasInGrad(0)) return;
        int plane = outHeight * outWidth, inPlane = n.InShape(0)[2] * n.InShape(0)[3];
        bool overwrite = n.OverwriteInGrad(0);
        ParallelWork.For(n.InShape(0)[0] * n.InShape(0)[1], inPlane, p =>
        {
            var dys = n.OutGrad(0).Slice(p * plane, plane);
            var ids = n.InInt(1).Slice(p * inPlane, inPlane);
            var dxs = n.InGrad(0).Slice(p * inPlane, inPlane);
            if (overwrite) for (int i = 0; i < inPlane; i++) dxs[i] = dys[Checked(n, ids[i], p * inPlane + i)];
            else for (int i = 0; i < inPlane; i++) dxs[i] += dys[Checked(n, ids[i], p * inPlane + i)];
        });
    }

    private int Checked<T>(CpuNode<T> n, int at, int i) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if ((uint)at >= (uint)(outHeight * outWidth))
            throw new InvalidOperationException(
                $"{n.Node.Name} (maxunpool): index {at} at position {i} of the indices is outside the {outHeight}x{outWidth} output plane");
        return at;
    }
}

public static partial class Layers
{
    /// <summary>Places <paramref name="x"/> at <paramref name="indices"/> (from MaxPoolWithIndices) in zero planes of the given size.</summary>
    public static Value MaxUnpool(this GraphBuilder b, Value x, Value indices, int outHeight, int outWidth, string? name = null)
        => b.Add1(new MaxUnpool(outHeight, outWidth), name ?? b.Unique("maxunpool"), x, indices);
}
