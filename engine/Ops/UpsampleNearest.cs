using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>Nearest-neighbour upsampling by an integer factor: y[h, w] = x[h / scale, w / scale]. Backward sums each scale x scale block.</summary>
public sealed partial class UpsampleNearest(int scale = 2) : Op
{
    public int Scale => scale;

    public override string Type => "upsample";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override (string Filters, string Size) Describe() => ("", $"{scale}x");

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (x.Rank != 4) throw Bad($"expects an NCHW input, got {x.DropFirst()}");
        if (scale < 1) throw Bad($"scale must be at least 1, got {scale}");
        return [new Shape(x[0], x[1], x[2] * scale, x[3] * scale)];
    }

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        var x = n.In(0);
        var y = n.Out(0);
        var s = n.InShape(0);
        int height = s[2], width = s[3], outW = width * scale, planes = s[0] * s[1];
        int o = 0;
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < height * scale; oh++)
            {
                var row = x.Slice((p * height + oh / scale) * width, width);
                for (int ow = 0; ow < outW; ow++, o++) y[o] = row[ow / scale];
            }
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        if (!n.HasInGrad(0)) return;
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        bool overwrite = n.OverwriteInGrad(0);
        var s = n.InShape(0);
        int height = s[2], width = s[3], outW = width * scale, planes = s[0] * s[1];
        int i = 0;
        for (int p = 0; p < planes; p++)
            for (int ih = 0; ih < height; ih++)
                for (int iw = 0; iw < width; iw++, i++)
                {
                    var sum = T.Zero;
                    for (int dh = 0; dh < scale; dh++)
                    {
                        var row = dy.Slice(((p * height + ih) * scale + dh) * outW + iw * scale, scale);
                        foreach (var g in row) sum += g;
                    }
                    dx[i] = overwrite ? sum : dx[i] + sum;
                }
    }
}

public static partial class Layers
{
    public static Value UpsampleNearest(this GraphBuilder b, Value x, int scale = 2, string? name = null)
        => b.Add1(new UpsampleNearest(scale), name ?? b.Unique("upsample"), x);
}
