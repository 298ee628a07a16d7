using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// The fused BN + activation's CPU path in NHWC: z = BN(x) over rows of channels, then the
/// activation over the whole tensor (<see cref="ActivationMaps"/>, the unfused ops' arithmetic);
/// backward recomputes z from x, takes dz = dy * act'(z) and runs batch norm's NHWC backward on dz.
/// </summary>
public sealed partial class BatchNormActivation
{
    private const int DzSlot = 1;

    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        ChannelStatistics.ForwardNhwc(n, Momentum, Eps, (mean, invStd) => ApplyNhwc(n, mean, invStd));

    private void RecomputeNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        ChannelStatistics.WithForwardStatisticsNhwc(n, Eps, (mean, invStd, _) => ApplyNhwc(n, mean, invStd));

    private void ApplyNhwc<T>(CpuNode<T> n, double[] mean, double[] invStd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (scale, shift) = BatchNorm.Affine(n, invStd);
        var y = n.Out(0);
        ChannelsLast.Normalize<T>(n.In(0), y, mean.Length, mean, scale, shift);
        ParallelWork.ForChunks(y.Length, (start, count) => ActivationMaps.Apply(Activation, n.Out(0).Slice(start, count)));
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        ChannelStatistics.WithForwardStatisticsNhwc(n, Eps, (mean, invStd, batchStatistics) =>
        {
            var (scale, shift) = BatchNorm.Affine(n, invStd);
            var x = n.In(0);
            var buffer = n.Scratch<T>(DzSlot, x.Length);
            var dz = buffer.AsSpan(0, x.Length);
            ChannelsLast.Normalize<T>(x, dz, mean.Length, mean, scale, shift);
            ParallelWork.ForChunks(dz.Length, (start, count) =>
                ActivationMaps.Gradient<T>(Activation, n.OutGrad(0).Slice(start, count), buffer.AsSpan(start, count)));
            BatchNorm.ChannelsBackward<T>(n, dz, mean, invStd, batchStatistics);
        });
}
