using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// PyTorch's adaptive average pooling to a fixed OutH x OutW: output cell (i, j) averages input
/// rows floor(i*H/OutH) .. ceil((i+1)*H/OutH) - 1 and the columns likewise, so bins may overlap
/// (a 2x2 map pooled to 7x7) or repeat one pixel (1x1 to 7x7). torchvision's VGG pools to 7x7
/// before its classifier, which lets its FC weights serve any input size.
/// </summary>
public sealed partial class AdaptiveAvgPool(int outHeight, int outWidth) : Op
{
    public int OutHeight { get; } = outHeight > 0 ? outHeight : throw new ArgumentOutOfRangeException(nameof(outHeight));
    public int OutWidth { get; } = outWidth > 0 ? outWidth : throw new ArgumentOutOfRangeException(nameof(outWidth));

    public override string Type => "adaptiveavgpool";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;
    public override (string Filters, string Size) Describe() => ("", $"to {OutHeight}x{OutWidth}");

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (x.Rank != 4) throw Bad($"expects an NCHW input, got {x.DropFirst()}");
        if (x[2] * x[3] == 0) throw Bad($"cannot average an empty {x[2]}x{x[3]} plane");
        return [new Shape(x[0], x[1], OutHeight, OutWidth)];
    }

    private static (int Begin, int End) Bin(int i, int inSize, int outSize) =>
        (i * inSize / outSize, ((i + 1) * inSize + outSize - 1) / outSize);

    /// <summary>Every output cell of <paramref name="planes"/> planes: where its plane starts in the input, its own index, the box it averages and the box's size.</summary>
    private IEnumerable<(int Plane, int Cell, int Row0, int Row1, int Col0, int Col1, int Area)> Cells(int planes, int h, int w)
    {
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < OutHeight; i++)
            {
                var (r0, r1) = Bin(i, h, OutHeight);
                for (int j = 0; j < OutWidth; j++)
                {
                    var (c0, c1) = Bin(j, w, OutWidth);
                    yield return (p * h * w, (p * OutHeight + i) * OutWidth + j, r0, r1, c0, c1, (r1 - r0) * (c1 - c0));
                }
            }
    }

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        var x = n.In(0);
        var y = n.Out(0);
        int w = n.InShape(0)[3];
        foreach (var (plane, cell, r0, r1, c0, c1, area) in Cells(y.Length / (OutHeight * OutWidth), n.InShape(0)[2], w))
        {
            var sum = T.Zero;
            for (int r = r0; r < r1; r++) foreach (var v in x.Slice(plane + r * w + c0, c1 - c0)) sum += v;
            y[cell] = sum / T.CreateTruncating(area);
        }
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        if (!n.HasInGrad(0)) return;
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        int w = n.InShape(0)[3];
        foreach (var (plane, cell, r0, r1, c0, c1, area) in Cells(dy.Length / (OutHeight * OutWidth), n.InShape(0)[2], w))
        {
            var share = dy[cell] / T.CreateTruncating(area);
            for (int r = r0; r < r1; r++) foreach (ref var g in dx.Slice(plane + r * w + c0, c1 - c0)) g += share;
        }
    }
}

public static partial class Layers
{
    /// <summary>Averages each channel into an <paramref name="height"/> x <paramref name="width"/> grid of bins (PyTorch's adaptive_avg_pool2d).</summary>
    public static Value AdaptiveAvgPool(this GraphBuilder b, Value x, int height, int width, string? name = null)
        => b.Add1(new AdaptiveAvgPool(height, width), name ?? b.Unique("adaptive_pool"), x);
}
