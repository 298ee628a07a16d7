using System.Numerics;
using System.Runtime.Intrinsics;

namespace Engine.Ops.Cpu;

/// <summary>
/// The float path of the per-pixel softmax losses: one sample's logits [K, plane] are K rows of
/// pixels, so the softmax over classes runs eight pixels at a time down the rows, with one
/// <see cref="VectorExp"/> per logit instead of the reference's double exps (two sweeps of K per
/// pixel in forward, three in backward).
/// </summary>
internal static class SoftmaxPlanes
{
    /// <summary>lse[p] = log(sum over k of exp(x[k, p])) for every pixel, through the pixel's max.</summary>
    public static void LogSumExp(ReadOnlySpan<float> logits, int classes, int plane, Span<float> lse)
    {
        int p = 0;
        for (; p <= plane - 8; p += 8)
        {
            var max = Vector256.Create(logits[p..]);
            for (int k = 1; k < classes; k++) max = Vector256.Max(max, Vector256.Create(logits[(k * plane + p)..]));
            var sum = Vector256<float>.Zero;
            for (int k = 0; k < classes; k++) sum += VectorExp.Exp(Vector256.Create(logits[(k * plane + p)..]) - max);
            for (int i = 0; i < 8; i++) lse[p + i] = max[i] + MathF.Log(sum[i]);
        }
        for (; p < plane; p++)
        {
            var (max, logSumExp) = AtPixel<float>(logits, classes, plane, p);
            lse[p] = (float)max + (float)logSumExp;
        }
    }

    /// <summary>The max and log(sum(exp(logit - max))) over the classes at pixel p, in double (the reference's softmax normaliser).</summary>
    public static (double Max, double LogSumExp) AtPixel<T>(ReadOnlySpan<T> logits, int classes, int plane, int p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < classes; k++) max = Math.Max(max, double.CreateTruncating(logits[k * plane + p]));
        double sum = 0;
        for (int k = 0; k < classes; k++) sum += Math.Exp(double.CreateTruncating(logits[k * plane + p]) - max);
        return (max, Math.Log(sum));
    }

    /// <summary>
    /// dx[k, p] = (exp(x[k, p] - lse[p]) - [k = label[p]]) * weight[p], stored or added; a pixel of
    /// weight 0 (ignored) gets exactly 0 (or is left as it was), whatever its logits hold.
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> logits, int classes, int plane, ReadOnlySpan<float> lse, ReadOnlySpan<int> labels,
        ReadOnlySpan<float> weight, Span<float> dx, bool overwrite)
    {
        int p = 0;
        for (; p <= plane - 8; p += 8)
        {
            var l = Vector256.Create(lse[p..]);
            var w = Vector256.Create(weight[p..]);
            var counted = ~Vector256.Equals(w, Vector256<float>.Zero);
            var label = Vector256.Create(labels[p..]);
            for (int k = 0; k < classes; k++)
            {
                int at = k * plane + p;
                var probability = VectorExp.Exp(Vector256.Create(logits[at..]) - l);
                var onehot = Vector256.Equals(label, Vector256.Create(k)).AsSingle() & Vector256<float>.One;
                var g = Vector256.ConditionalSelect(counted, (probability - onehot) * w, Vector256<float>.Zero);
                if (!overwrite) g += Vector256.Create((ReadOnlySpan<float>)dx[at..]);
                g.CopyTo(dx[at..]);
            }
        }
        for (; p < plane; p++)
            for (int k = 0; k < classes; k++)
            {
                int at = k * plane + p;
                float g = weight[p] == 0 ? 0 : ((float)Math.Exp(logits[at] - lse[p]) - (k == labels[p] ? 1 : 0)) * weight[p];
                dx[at] = overwrite ? g : dx[at] + g;
            }
    }
}
