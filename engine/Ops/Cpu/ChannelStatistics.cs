using System.Numerics;
using Engine.Graph;

namespace Engine.Ops.Cpu;

/// <summary>
/// Batch normalisation's per-channel statistics on the CPU, shared by BatchNorm and the fused
/// BatchNormActivation: batch mean and biased variance in double (kept as [mean, 1/std] in the
/// node's scratch slot 0 for backward) and PyTorch's running-statistics update with the unbiased
/// variance; in evaluation the running statistics. Parallel over channels.
/// </summary>
internal static class ChannelStatistics
{
    /// <summary>Computes (or reads) each channel's mean and 1/std and calls <paramref name="apply"/>(channel, mean, invStd).</summary>
    public static void Forward<T>(CpuNode<T> n, double momentum, double eps, Action<int, double, double> apply)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        long perChannel = (long)batch * plane;
        if (!n.Training)
        {
            ParallelWork.For(channels, perChannel, c =>
                apply(c, double.CreateTruncating(n.State(0)[c]), 1 / Math.Sqrt(double.CreateTruncating(n.State(1)[c]) + eps)));
            return;
        }
        if (perChannel < 2)
            throw new ShapeException($"{n.Node.Name}: training needs more than one value per channel, got input {n.InShape(0)}");
        var stats = n.Scratch<double>(0, 2L * channels);
        ParallelWork.For(channels, perChannel, c =>
        {
            var (mean, variance) = Moments(n, c);
            double invStd = 1 / Math.Sqrt(variance + eps);
            stats[2 * c] = mean;
            stats[2 * c + 1] = invStd;
            apply(c, mean, invStd);
            var runningMean = n.State(0);
            var runningVar = n.State(1);
            double unbiased = variance * perChannel / (perChannel - 1.0);
            runningMean[c] = T.CreateTruncating((1 - momentum) * double.CreateTruncating(runningMean[c]) + momentum * mean);
            runningVar[c] = T.CreateTruncating((1 - momentum) * double.CreateTruncating(runningVar[c]) + momentum * unbiased);
        });
    }

    /// <summary>Calls <paramref name="channelBackward"/>(channel, mean, invStd, batch statistics?) with what the last forward used (backward, recomputation).</summary>
    public static void WithForwardStatistics<T>(CpuNode<T> n, double eps, Action<int, double, double, bool> channelBackward)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        double[]? stats = n.Training ? n.Scratch<double>(0, 2L * channels) : null;
        ParallelWork.For(channels, (long)batch * plane, c =>
        {
            if (stats is not null) channelBackward(c, stats[2 * c], stats[2 * c + 1], true);
            else channelBackward(c, double.CreateTruncating(n.State(0)[c]), 1 / Math.Sqrt(double.CreateTruncating(n.State(1)[c]) + eps), false);
        });
    }

    /// <summary>Mean and biased variance of channel c, two passes.</summary>
    private static (double Mean, double Variance) Moments<T>(CpuNode<T> n, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        ReadOnlySpan<T> x = n.In(0);
        double sum = 0;
        for (int s = 0; s < batch; s++) sum += Reductions.Sum(x.Slice((s * channels + c) * plane, plane));
        double mean = sum / ((long)batch * plane);
        double squares = 0;
        for (int s = 0; s < batch; s++) squares += Reductions.SumSquaredDeviations(x.Slice((s * channels + c) * plane, plane), mean);
        return (mean, squares / ((long)batch * plane));
    }
}
