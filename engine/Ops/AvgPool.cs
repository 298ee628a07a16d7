using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Average pooling over square windows, PyTorch semantics: with <c>countIncludePad</c> the
/// divisor counts the zero padding (but not the part of a ceil-mode window beyond it);
/// without, only the input elements in the window. Backward is a gather like max pooling's.
/// </summary>
public sealed partial class AvgPool(int kernel, int stride, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Op
{
    private readonly PoolGeometry _geometry = new(kernel, stride, padding, ceilMode);

    public int Kernel => kernel;
    public int Stride => stride;
    public int Padding => padding;
    public bool CeilMode => ceilMode;
    public bool CountIncludePad => countIncludePad;

    public override string Type => "avgpool";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override (string Filters, string Size) Describe() => ("", _geometry.Describe());
    public override Shape[] InferShapes(Shape[] inputs) => [_geometry.OutputShape(inputs[0])];

    /// <summary>Window [h0, h1) x [w0, w1) of output (oh, ow), clipped to the input, and its divisor.</summary>
    private (int H0, int H1, int W0, int W1, int Divisor) Window(int oh, int ow, int height, int width)
    {
        int h0 = _geometry.Start(oh), h1 = Math.Min(h0 + kernel, height + padding);
        int w0 = _geometry.Start(ow), w1 = Math.Min(w0 + kernel, width + padding);
        int padded = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0); h1 = Math.Min(h1, height);
        w0 = Math.Max(w0, 0); w1 = Math.Min(w1, width);
        return (h0, h1, w0, w1, countIncludePad ? padded : (h1 - h0) * (w1 - w0));
    }

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        var x = n.In(0);
        var y = n.Out(0);
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int height = inS[2], width = inS[3], outH = outS[2], outW = outS[3];
        int planes = inS[0] * inS[1];
        for (int p = 0; p < planes; p++)
        {
            var xp = x.Slice(p * height * width, height * width);
            int o = p * outH * outW;
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++, o++)
                {
                    var (h0, h1, w0, w1, divisor) = Window(oh, ow, height, width);
                    var sum = T.Zero;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++)
                            sum += xp[ih * width + iw];
                    y[o] = sum / T.CreateTruncating(divisor);
                }
        }
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        if (!n.HasInGrad(0)) return;
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        bool overwrite = n.OverwriteInGrad(0);
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int height = inS[2], width = inS[3], outH = outS[2], outW = outS[3];
        int planes = inS[0] * inS[1];
        for (int p = 0; p < planes; p++)
        {
            var dyp = dy.Slice(p * outH * outW, outH * outW);
            var dxp = dx.Slice(p * height * width, height * width);
            for (int ih = 0; ih < height; ih++)
            {
                var (oh0, oh1) = _geometry.WindowsContaining(ih, outH);
                for (int iw = 0; iw < width; iw++)
                {
                    var (ow0, ow1) = _geometry.WindowsContaining(iw, outW);
                    var sum = T.Zero;
                    for (int oh = oh0; oh <= oh1; oh++)
                        for (int ow = ow0; ow <= ow1; ow++)
                            sum += dyp[oh * outW + ow] / T.CreateTruncating(Window(oh, ow, height, width).Divisor);
                    dxp[ih * width + iw] = overwrite ? sum : dxp[ih * width + iw] + sum;
                }
            }
        }
    }
}

public static partial class Layers
{
    public static Value AvgPool(this GraphBuilder b, Value x, int kernel, int stride, int padding = 0, bool ceilMode = false, bool countIncludePad = true, string? name = null)
        => b.Add1(new AvgPool(kernel, stride, padding, ceilMode, countIncludePad), name ?? b.Unique("avgpool"), x);
}
