using System.Numerics;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Max pooling over square windows, PyTorch semantics: padding counts as -inf, ties go to the
/// first maximum in row-major scan order, NaN wins. With <see cref="WithIndices"/> a second,
/// Int32 output holds each maximum's index h * W + w within its (n, c) plane (for MaxUnpool);
/// otherwise the indices are kept in scratch for backward.
/// Backward is a gather: each input element sums dy over the windows that picked it.
/// </summary>
public sealed partial class MaxPool(int kernel, int stride, int padding = 0, bool ceilMode = false, bool withIndices = false) : Op
{
    private readonly PoolGeometry _geometry = new(kernel, stride, padding, ceilMode);

    public int Kernel => kernel;
    public int Stride => stride;
    public int Padding => padding;
    public bool CeilMode => ceilMode;
    public bool WithIndices => withIndices;

    public override string Type => "maxpool";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => output == 1;
    public override bool OverwritesInputGradient(int input) => true;
    public override (string Filters, string Size) Describe() => ("", _geometry.Describe());
    public override DataType OutputType(int output) => output == 1 ? DataType.I32 : DataType.F32;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var y = _geometry.OutputShape(inputs[0]);
        return withIndices ? [y, y] : [y];
    }

    /// <summary>Without an indices output the argmax is kept in the node's planned scratch.</summary>
    public override (long Count, DataType Type)? SavedScratch(Shape[] inputs, Shape[] outputs) =>
        withIndices ? null : (outputs[0].Numel, DataType.I32);

    private Span<int> Argmax<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        withIndices ? n.OutInt(1) : n.SavedScratchInts();

    public override void Forward<T>(CpuNode<T> n)
    {
        var x = n.In(0);
        var y = n.Out(0);
        var argmax = Argmax(n);
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int height = inS[2], width = inS[3], outH = outS[2], outW = outS[3];
        int planes = inS[0] * inS[1];
        for (int p = 0; p < planes; p++)
        {
            var xp = x.Slice(p * height * width, height * width);
            int o = p * outH * outW;
            for (int oh = 0; oh < outH; oh++)
            {
                int h0 = _geometry.Start(oh), h1 = Math.Min(h0 + kernel, height);
                h0 = Math.Max(h0, 0);
                for (int ow = 0; ow < outW; ow++, o++)
                {
                    int w0 = _geometry.Start(ow), w1 = Math.Min(w0 + kernel, width);
                    w0 = Math.Max(w0, 0);
                    var best = T.NegativeInfinity;
                    int bestAt = h0 * width + w0;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++)
                        {
                            var v = xp[ih * width + iw];
                            if (v > best || T.IsNaN(v)) { best = v; bestAt = ih * width + iw; }
                        }
                    y[o] = best;
                    argmax[o] = bestAt;
                }
            }
        }
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (!n.HasInGrad(0)) return;
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        var argmax = Argmax(n);
        bool overwrite = n.OverwriteInGrad(0);
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int height = inS[2], width = inS[3], outH = outS[2], outW = outS[3];
        int planes = inS[0] * inS[1];
        for (int p = 0; p < planes; p++)
        {
            var dyp = dy.Slice(p * outH * outW, outH * outW);
            var ap = argmax.Slice(p * outH * outW, outH * outW);
            var dxp = dx.Slice(p * height * width, height * width);
            for (int ih = 0; ih < height; ih++)
            {
                var (oh0, oh1) = _geometry.WindowsContaining(ih, outH);
                for (int iw = 0; iw < width; iw++)
                {
                    var (ow0, ow1) = _geometry.WindowsContaining(iw, outW);
                    int at = ih * width + iw;
                    var sum = T.Zero;
                    for (int oh = oh0; oh <= oh1; oh++)
                        for (int ow = ow0; ow <= ow1; ow++)
                            if (ap[oh * outW + ow] == at) sum += dyp[oh * outW + ow];
                    dxp[at] = overwrite ? sum : dxp[at] + sum;
                }
            }
        }
    }
}

public static partial class Layers
{
    public static Value MaxPool(this GraphBuilder b, Value x, int kernel, int stride, int padding = 0, bool ceilMode = false, string? name = null)
        => b.Add1(new MaxPool(kernel, stride, padding, ceilMode), name ?? b.Unique("maxpool"), x);

    /// <summary>Max pooling that also returns the Int32 argmax indices (h * W + w within each plane), for <see cref="MaxUnpool"/>.</summary>
    public static (Value Values, Value Indices) MaxPoolWithIndices(this GraphBuilder b, Value x, int kernel, int stride, int padding = 0, bool ceilMode = false, string? name = null)
    {
        var outs = b.Add(new MaxPool(kernel, stride, padding, ceilMode, withIndices: true), name ?? b.Unique("maxpool"), x);
        return (outs[0], outs[1]);
    }
}
