using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// Group normalisation's CPU path in NHWC: a (sample, group) block is, at every pixel, the group's
/// run of contiguous channels; statistics, normalisation and gradients are
/// <see cref="GroupNorm"/>'s, summed pixel by pixel over those runs.
/// </summary>
public sealed partial class GroupNorm
{
    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int groupSize = GroupSize(n.InShape(0));
        var stats = n.Scratch<double>(0, 2L * batch * Groups);
        ParallelWork.For(batch * Groups, (long)groupSize * plane, ng =>
        {
            int first = ng % Groups * groupSize;
            ReadOnlySpan<T> x = n.In(0).Slice(ng / Groups * plane * channels, plane * channels);
            var y = n.Out(0).Slice(ng / Groups * plane * channels, plane * channels);
            double sum = 0;
            for (int p = 0; p < plane; p++) sum += Reductions.Sum(x.Slice(p * channels + first, groupSize));
            double count = (double)groupSize * plane, mean = sum / count, squares = 0;
            for (int p = 0; p < plane; p++) squares += Reductions.SumSquaredDeviations(x.Slice(p * channels + first, groupSize), mean);
            double invStd = 1 / Math.Sqrt(squares / count + Eps);
            stats[2 * ng] = mean;
            stats[2 * ng + 1] = invStd;
            for (int p = 0; p < plane; p++)
                for (int j = 0; j < groupSize; j++)
                {
                    int at = p * channels + first + j;
                    double scale = invStd * double.CreateTruncating(n.Param(0)[first + j]);
                    y[at] = T.CreateTruncating((double.CreateTruncating(x[at]) - mean) * scale + double.CreateTruncating(n.Param(1)[first + j]));
                }
        });
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int groupSize = GroupSize(n.InShape(0));
        var stats = n.Scratch<double>(0, 2L * batch * Groups);
        ParallelWork.For(channels, (long)batch * plane, c =>
        {
            ReadOnlySpan<T> x = n.In(0);
            ReadOnlySpan<T> dy = n.OutGrad(0);
            double sumDy = 0, sumDyXhat = 0;
            for (int s = 0; s < batch; s++)
            {
                int ng = s * Groups + c / groupSize;
                double mean = stats[2 * ng], invStd = stats[2 * ng + 1];
                for (int p = 0, at = s * plane * channels + c; p < plane; p++, at += channels)
                {
                    double g = double.CreateTruncating(dy[at]);
                    sumDy += g;
                    sumDyXhat += g * (double.CreateTruncating(x[at]) - mean) * invStd;
                }
            }
            n.ParamGrad(0)[c] += T.CreateTruncating(sumDyXhat);
            n.ParamGrad(1)[c] += T.CreateTruncating(sumDy);
        });
        if (!n.HasInGrad(0)) return;
        ParallelWork.For(batch * Groups, (long)groupSize * plane, ng =>
        {
            int first = ng % Groups * groupSize, sample = ng / Groups * plane * channels;
            ReadOnlySpan<T> x = n.In(0).Slice(sample, plane * channels);
            ReadOnlySpan<T> dy = n.OutGrad(0).Slice(sample, plane * channels);
            var dx = n.InGrad(0).Slice(sample, plane * channels);
            double mean = stats[2 * ng], invStd = stats[2 * ng + 1];
            double sumG = 0, sumGXhat = 0;
            for (int p = 0; p < plane; p++)
                for (int j = 0; j < groupSize; j++)
                {
                    int at = p * channels + first + j;
                    double g = double.CreateTruncating(dy[at]) * double.CreateTruncating(n.Param(0)[first + j]);
                    sumG += g;
                    sumGXhat += g * (double.CreateTruncating(x[at]) - mean) * invStd;
                }
            double count = (double)groupSize * plane, meanG = sumG / count, meanGXhat = sumGXhat / count;
            for (int p = 0; p < plane; p++)
                for (int j = 0; j < groupSize; j++)
                {
                    int at = p * channels + first + j;
                    double xhat = (double.CreateTruncating(x[at]) - mean) * invStd;
                    double g = double.CreateTruncating(dy[at]) * double.CreateTruncating(n.Param(0)[first + j]);
                    dx[at] += T.CreateTruncating(invStd * (g - meanG - xhat * meanGXhat));
                }
        });
    }
}
