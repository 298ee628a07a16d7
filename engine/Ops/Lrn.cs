using System.Buffers;
using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Local response normalisation across channels (Krizhevsky et al. 2012, used by VGG's A-LRN):
/// y_c = x_c / (k + alpha * sum_j x_j^2)^beta over the channels j within size / 2 of c (clipped at
/// the edges). Alpha multiplies the sum itself, as the paper writes it; PyTorch's
/// <c>local_response_norm</c> and ONNX's LRN divide their alpha by the size, so theirs is
/// alpha * size (the export converts). The size must be odd: for an even size PyTorch and ONNX
/// place the window differently. Backward recomputes the scales from the input:
/// dx_j = dy_j d_j^-beta - 2 alpha beta x_j sum_{i near j} dy_i x_i d_i^(-beta-1), d = k + alpha * sum.
/// </summary>
public sealed partial class Lrn(int size = 5, double alpha = 1e-4, double beta = 0.75, double k = 2) : Op
{
    public int Size => size;
    public double Alpha => alpha;
    public double Beta => beta;
    public double K => k;

    public override string Type => "lrn";
    public override bool BackwardReadsInput(int input) => true;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override (string Filters, string Size) Describe() => ("", $"{size}ch");

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (x.Rank != 2 && x.Rank != 4) throw Bad($"expects an NC or NCHW input, got {x.DropFirst()}");
        if (size < 1 || size % 2 == 0) throw Bad($"size must be a positive odd number of channels, got {size}");
        if (!(k > 0) || alpha < 0 || beta < 0 || !double.IsFinite(alpha + beta + k))
            throw Bad($"needs k > 0 and alpha, beta >= 0 (finite), got k {k}, alpha {alpha}, beta {beta}");
        return [x];
    }

    public override void Forward<T>(CpuNode<T> n)
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int sample = channels * plane;
        T minusBeta = -T.CreateChecked(beta);
        var (cs, ps) = Strides(n, channels, plane);
        ParallelWork.For(batch, (long)sample * size, s =>
        {
            var d = ArrayPool<T>.Shared.Rent(sample);
            var x = n.In(0).Slice(s * sample, sample);
            Scales(x, d, channels, plane, cs, ps);
            var y = n.Out(0).Slice(s * sample, sample);
            for (int i = 0; i < sample; i++) y[i] = x[i] * T.Pow(d[i], minusBeta);
            ArrayPool<T>.Shared.Return(d);
        });
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (!n.HasInGrad(0)) return;
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int sample = channels * plane, half = size / 2;
        T b = T.CreateChecked(beta), twoAlphaBeta = T.CreateChecked(2 * alpha * beta);
        bool overwrite = n.OverwriteInGrad(0);
        var (cs, ps) = Strides(n, channels, plane);
        ParallelWork.For(batch, (long)sample * size * 2, s =>
        {
            var r = ArrayPool<T>.Shared.Rent(sample);
            var x = n.In(0).Slice(s * sample, sample);
            var dy = n.OutGrad(0).Slice(s * sample, sample);
            var dx = n.InGrad(0).Slice(s * sample, sample);
            Scales(x, r, channels, plane, cs, ps);
            for (int i = 0; i < sample; i++)
            {
                T scaled = T.Pow(r[i], -b);
                dx[i] = (overwrite ? T.Zero : dx[i]) + dy[i] * scaled;
                r[i] = dy[i] * x[i] * scaled / r[i];
            }
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++)
                {
                    T sum = T.Zero;
                    for (int j = Math.Max(0, c - half); j <= Math.Min(channels - 1, c + half); j++) sum += r[j * cs + p * ps];
                    dx[c * cs + p * ps] -= twoAlphaBeta * x[c * cs + p * ps] * sum;
                }
            ArrayPool<T>.Shared.Return(r);
        });
    }

    /// <summary>d = k + alpha * (sum of squares over the channel window), for one sample.</summary>
    /// <summary>
    /// Element (channel c, pixel p) of one sample lies at c * cs + p * ps: (plane, 1) in NCHW,
    /// (1, channels) in NHWC, so one loop serves both layouts with the same order of additions.
    /// </summary>
    private static (int ChannelStride, int PixelStride) Strides<T>(CpuNode<T> n, int channels, int plane) where T : unmanaged, IFloatingPointIeee754<T> =>
        n.InNhwc(0) ? (1, channels) : (plane, 1);

    private void Scales<T>(ReadOnlySpan<T> x, Span<T> d, int channels, int plane, int cs, int ps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int half = size / 2;
        T a = T.CreateChecked(alpha), bias = T.CreateChecked(k);
        for (int c = 0; c < channels; c++)
        {
            for (int p = 0; p < plane; p++) d[c * cs + p * ps] = T.Zero;
            for (int j = Math.Max(0, c - half); j <= Math.Min(channels - 1, c + half); j++)
                for (int p = 0; p < plane; p++)
                {
                    var xj = x[j * cs + p * ps];
                    d[c * cs + p * ps] += xj * xj;
                }
            for (int p = 0; p < plane; p++) d[c * cs + p * ps] = bias + a * d[c * cs + p * ps];
        }
    }
}

public static partial class Layers
{
    /// <summary>Local response normalisation across channels; the defaults are AlexNet's and VGG A-LRN's (size 5, alpha 1e-4, beta 0.75, k 2).</summary>
    public static Value Lrn(this GraphBuilder b, Value x, int size = 5, double alpha = 1e-4, double beta = 0.75, double k = 2, string? name = null)
        => b.Add1(new Lrn(size, alpha, beta, k), name ?? b.Unique("lrn"), x);
}
