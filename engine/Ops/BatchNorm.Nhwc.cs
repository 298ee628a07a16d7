using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// Batch normalisation's CPU path in NHWC: the same statistics, saved moments and running update
/// (<see cref="ChannelStatistics.ForwardNhwc"/>), with every pass over rows of C channels
/// (<see cref="ChannelsLast"/>). Shared with <see cref="BatchNormActivation"/>.
/// </summary>
public sealed partial class BatchNorm
{
    /// <summary>Per-channel scale (weight / std) and shift (bias) of the normalisation.</summary>
    internal static (double[] Scale, double[] Shift) Affine<T>(CpuNode<T> n, double[] invStd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = invStd.Length;
        var scale = new double[channels];
        var shift = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = invStd[c] * double.CreateTruncating(n.Param(0)[c]);
            shift[c] = double.CreateTruncating(n.Param(1)[c]);
        }
        return (scale, shift);
    }

    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        ChannelStatistics.ForwardNhwc(n, Momentum, Eps, (mean, invStd) =>
        {
            var (scale, shift) = Affine(n, invStd);
            ChannelsLast.Normalize<T>(n.In(0), n.Out(0), mean.Length, mean, scale, shift);
        });

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        ChannelStatistics.WithForwardStatisticsNhwc(n, Eps, (mean, invStd, batchStatistics) => ChannelsBackward(n, n.OutGrad(0), mean, invStd, batchStatistics));

    /// <summary>
    /// Every channel's gradients from <paramref name="dy"/> (the gradient at the normalised output):
    /// dx = weight / std * (dy - mean(dy) - xhat * mean(dy * xhat)) with batch statistics, weight / std * dy with running ones.
    /// </summary>
    internal static void ChannelsBackward<T>(CpuNode<T> n, ReadOnlySpan<T> dy, double[] mean, double[] invStd, bool batchStatistics)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = mean.Length;
        var (batch, _, plane) = ParallelWork.NchwLayout(n.InShape(0));
        double count = (double)batch * plane;
        var (sumDy, sumDyDeviation) = ChannelsLast.GradientSums<T>(dy, n.In(0), channels, mean);
        var scale = new double[channels];
        var meanDy = new double[channels];
        var slope = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double sumDyXhat = sumDyDeviation[c] * invStd[c];
            n.ParamGrad(0)[c] += T.CreateTruncating(sumDyXhat);
            n.ParamGrad(1)[c] += T.CreateTruncating(sumDy[c]);
            scale[c] = double.CreateTruncating(n.Param(0)[c]) * invStd[c];
            meanDy[c] = batchStatistics ? sumDy[c] / count : 0;
            slope[c] = batchStatistics ? invStd[c] * sumDyXhat / count : 0;
        }
        if (!n.HasInGrad(0)) return;
        ChannelsLast.InputGradient(dy, n.In(0), n.InGrad(0), channels, mean, scale, meanDy, slope, n.OverwriteInGrad(0));
    }
}
