using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// Synchronised batch norm's CPU path in NHWC: the same all-reduced sums, squared deviations and
/// gradient sums as the NCHW path, each rank's part taken in one pass over rows of channels
/// (<see cref="ChannelsLast"/>); evaluation is batch norm's NHWC path.
/// </summary>
public sealed partial class SyncBatchNorm
{
    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        var local = ChannelsLast.Sums<T>(n.In(0), channels);
        var sums = new double[channels + 1];
        local.CopyTo(sums, 0);
        sums[channels] = (long)batch * plane;
        Group.AllReduceSum(sums, $"syncbn sums of {n.Node.Name}");
        double count = sums[channels];
        if (count < 2)
            throw new ShapeException($"{n.Node.Name}: training needs more than one value per channel over all ranks, got {count}");
        var mean = new double[channels];
        for (int c = 0; c < channels; c++) mean[c] = sums[c] / count;
        var squares = ChannelsLast.SquaredDeviations<T>(n.In(0), channels, mean);
        Group.AllReduceSum(squares, $"syncbn variances of {n.Node.Name}");
        var stats = ChannelStatistics.SavedMoments(n);
        var invStd = new double[channels];
        for (int c = 0; c < channels; c++)
            ChannelStatistics.UseBatchMoments(n, stats, c, mean[c], squares[c] / count, count, Momentum, Eps, (ch, _, s) => invStd[ch] = s);
        var (scale, shift) = BatchNorm.Affine(n, invStd);
        ChannelsLast.Normalize<T>(n.In(0), n.Out(0), channels, mean, scale, shift);
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = n.InShape(0)[1];
        var moments = ChannelStatistics.SavedMoments(n);
        var mean = new double[channels];
        var invStd = new double[channels];
        for (int c = 0; c < channels; c++) (mean[c], invStd[c]) = (moments[2 * c], moments[2 * c + 1]);
        var (sumDy, sumDyDeviation) = ChannelsLast.GradientSums<T>(n.OutGrad(0), n.In(0), channels, mean);
        var sums = new double[2 * channels + 1];
        for (int c = 0; c < channels; c++)
        {
            sums[2 * c] = sumDy[c];
            sums[2 * c + 1] = sumDyDeviation[c];
            n.ParamGrad(0)[c] += T.CreateTruncating(sumDyDeviation[c] * invStd[c]);
            n.ParamGrad(1)[c] += T.CreateTruncating(sumDy[c]);
        }
        var (batch, _, plane) = ParallelWork.NchwLayout(n.InShape(0));
        sums[2 * channels] = (long)batch * plane;
        Group.AllReduceSum(sums, $"syncbn gradient sums of {n.Node.Name}");
        if (!n.HasInGrad(0)) return;
        double count = sums[2 * channels];
        var scale = new double[channels];
        var meanDy = new double[channels];
        var slope = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = double.CreateTruncating(n.Param(0)[c]) * invStd[c];
            meanDy[c] = sums[2 * c] / count;
            slope[c] = invStd[c] * (sums[2 * c + 1] * invStd[c] / count);
        }
        ChannelsLast.InputGradient(n.OutGrad(0), n.In(0), n.InGrad(0), channels, mean, scale, meanDy, slope, n.OverwriteInGrad(0));
    }
}
