using System.Numerics;
using Engine.Distributed;
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
        var stats = SavedMoments(n);
        ParallelWork.For(channels, perChannel, c =>
        {
            var (mean, variance) = Moments(n, c);
            UseBatchMoments(n, stats, c, mean, variance, perChannel, momentum, eps, apply);
        });
    }

    /// <summary>
    /// <see cref="Forward"/> with the batch statistics taken over every rank's batch (SyncBN): the
    /// per-channel sums and value counts are all-reduced, then the squared deviations from the
    /// global mean, the same two passes as one process (so one rank gives batch norm's bits). Ranks
    /// may hold different batch sizes; every rank ends with the same running statistics.
    /// </summary>
    public static void ForwardSynchronized<T>(CpuNode<T> n, ICollectives group, double momentum, double eps, Action<int, double, double> apply)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!n.Training) { Forward(n, momentum, eps, apply); return; }
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        long perChannel = (long)batch * plane;
        var sums = new double[channels + 1];
        ParallelWork.For(channels, perChannel, c => sums[c] = ChannelSum(n, c));
        sums[channels] = perChannel;
        group.AllReduceSum(sums, $"syncbn sums of {n.Node.Name}");
        double count = sums[channels];
        if (count < 2)
            throw new ShapeException($"{n.Node.Name}: training needs more than one value per channel over all ranks, got {count}");
        var squares = new double[channels];
        ParallelWork.For(channels, perChannel, c => squares[c] = ChannelSquaredDeviations(n, c, sums[c] / count));
        group.AllReduceSum(squares, $"syncbn variances of {n.Node.Name}");
        var stats = SavedMoments(n);
        ParallelWork.For(channels, perChannel, c => UseBatchMoments(n, stats, c, sums[c] / count, squares[c] / count, count, momentum, eps, apply));
    }

    /// <summary>Keeps [mean, 1/std] for backward, applies the normalisation and moves the running statistics (unbiased variance over <paramref name="count"/> values).</summary>
    internal static void UseBatchMoments<T>(CpuNode<T> n, double[] stats, int c, double mean, double variance, double count, double momentum, double eps,
        Action<int, double, double> apply) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double invStd = 1 / Math.Sqrt(variance + eps);
        stats[2 * c] = mean;
        stats[2 * c + 1] = invStd;
        apply(c, mean, invStd);
        var runningMean = n.State(0);
        var runningVar = n.State(1);
        double unbiased = variance * count / (count - 1.0);
        runningMean[c] = T.CreateTruncating((1 - momentum) * double.CreateTruncating(runningMean[c]) + momentum * mean);
        runningVar[c] = T.CreateTruncating((1 - momentum) * double.CreateTruncating(runningVar[c]) + momentum * unbiased);
    }

    /// <summary>
    /// <see cref="Forward"/> for an NHWC input: every channel's moments in one pass over the rows of
    /// channels (<see cref="ChannelsLast"/>), the same saved [mean, 1/std] and running-statistics update,
    /// then <paramref name="apply"/>(mean, invStd) once over the whole tensor.
    /// </summary>
    public static void ForwardNhwc<T>(CpuNode<T> n, double momentum, double eps, Action<double[], double[]> apply)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        long perChannel = (long)batch * plane;
        var mean = new double[channels];
        var invStd = new double[channels];
        if (!n.Training)
        {
            for (int c = 0; c < channels; c++)
            {
                mean[c] = double.CreateTruncating(n.State(0)[c]);
                invStd[c] = 1 / Math.Sqrt(double.CreateTruncating(n.State(1)[c]) + eps);
            }
            apply(mean, invStd);
            return;
        }
        if (perChannel < 2)
            throw new ShapeException($"{n.Node.Name}: training needs more than one value per channel, got input {n.InShape(0)}");
        var sums = ChannelsLast.Sums<T>(n.In(0), channels);
        for (int c = 0; c < channels; c++) mean[c] = sums[c] / perChannel;
        var squares = ChannelsLast.SquaredDeviations<T>(n.In(0), channels, mean);
        var stats = SavedMoments(n);
        for (int c = 0; c < channels; c++)
            UseBatchMoments(n, stats, c, mean[c], squares[c] / perChannel, perChannel, momentum, eps, (ch, _, s) => invStd[ch] = s);
        apply(mean, invStd);
    }

    /// <summary><see cref="WithForwardStatistics"/> for an NHWC input: body(mean, invStd, batch statistics?) once for all channels.</summary>
    public static void WithForwardStatisticsNhwc<T>(CpuNode<T> n, double eps, Action<double[], double[], bool> body)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = n.InShape(0)[1];
        var mean = new double[channels];
        var invStd = new double[channels];
        double[]? stats = n.Training ? n.Scratch<double>(0, 2L * channels) : null;
        for (int c = 0; c < channels; c++)
            (mean[c], invStd[c]) = stats is not null ? (stats[2 * c], stats[2 * c + 1])
                : (double.CreateTruncating(n.State(0)[c]), 1 / Math.Sqrt(double.CreateTruncating(n.State(1)[c]) + eps));
        body(mean, invStd, stats is not null);
    }

    /// <summary>The per-channel [mean, 1/std] that the last training forward used.</summary>
    public static double[] SavedMoments<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> => n.Scratch<double>(0, 2L * n.InShape(0)[1]);

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
        var (batch, _, plane) = ParallelWork.NchwLayout(n.InShape(0));
        double mean = ChannelSum(n, c) / ((long)batch * plane);
        return (mean, ChannelSquaredDeviations(n, c, mean) / ((long)batch * plane));
    }

    private static double ChannelSum<T>(CpuNode<T> n, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        ReadOnlySpan<T> x = n.In(0);
        double sum = 0;
        for (int s = 0; s < batch; s++) sum += Reductions.Sum(x.Slice((s * channels + c) * plane, plane));
        return sum;
    }

    private static double ChannelSquaredDeviations<T>(CpuNode<T> n, int c, double mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        ReadOnlySpan<T> x = n.In(0);
        double squares = 0;
        for (int s = 0; s < batch; s++) squares += Reductions.SumSquaredDeviations(x.Slice((s * channels + c) * plane, plane), mean);
        return squares;
    }
}
