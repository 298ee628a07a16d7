using Engine.Distributed;
using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Synchronised batch normalisation (<c>--norm syncbn</c>): batch norm whose training statistics
/// span every data-parallel rank's batch (sizes may differ per rank), so N ranks at batch b
/// normalise as one process at the summed batch and keep the same running statistics. Forward
/// all-reduces per-channel sums and squared deviations; backward all-reduces the sums of dy and of
/// dy * (x - mean) that dx needs (the weight and bias gradients stay local and are summed with the
/// other gradients). On one rank it computes batch norm's bits; parameters and states are batch
/// norm's, so checkpoints move between the two. GPUs run it on host copies.
/// </summary>
public sealed partial class SyncBatchNorm : Op, ISynchronizedStatistics
{
    private readonly BatchNorm _plain;

    public SyncBatchNorm(ICollectives group, double momentum = 0.1, double eps = 1e-5)
    {
        _plain = new BatchNorm(momentum, eps);
        Group = group;
    }

    public ICollectives Group { get; }
    public double Momentum => _plain.Momentum;
    public double Eps => _plain.Eps;

    public override string Type => "syncbatchnorm";
    public override bool BackwardReadsInput(int input) => input == 0;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override Shape[] InferShapes(Shape[] inputs) => BatchNorm.ChannelShape(inputs);
    public override ParamSpec[] Parameters(Shape[] inputs) => BatchNorm.ChannelParameters(inputs);
    public override ParamSpec[] States(Shape[] inputs) => BatchNorm.RunningStatistics(inputs);

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0))
        {
            if (n.Training) ForwardNhwc(n);
            else _plain.Forward(n);
            return;
        }
        ChannelStatistics.ForwardSynchronized(n, Group, Momentum, Eps, (c, mean, invStd) => BatchNorm.Normalize(n, c, mean, invStd));
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (!n.Training) { _plain.Backward(n); return; }
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        long perChannel = (long)batch * plane;
        var moments = ChannelStatistics.SavedMoments(n);
        var sums = new double[2 * channels + 1];
        ParallelWork.For(channels, perChannel, c =>
        {
            var (sumDy, sumDyDeviation) = BatchNorm.GradientSums(n, c, moments[2 * c]);
            sums[2 * c] = sumDy;
            sums[2 * c + 1] = sumDyDeviation;
            n.ParamGrad(0)[c] += T.CreateTruncating(sumDyDeviation * moments[2 * c + 1]);
            n.ParamGrad(1)[c] += T.CreateTruncating(sumDy);
        });
        sums[2 * channels] = perChannel;
        Group.AllReduceSum(sums, $"syncbn gradient sums of {n.Node.Name}");
        if (!n.HasInGrad(0)) return;
        double count = sums[2 * channels];
        ParallelWork.For(channels, perChannel, c =>
        {
            double invStd = moments[2 * c + 1];
            BatchNorm.InputGradient(n, c, moments[2 * c], invStd, sums[2 * c] / count, sums[2 * c + 1] * invStd / count);
        });
    }
}

public static partial class Layers
{
    /// <summary>Batch norm with statistics over the ranks of <paramref name="group"/>.</summary>
    public static Value SyncBatchNorm(this GraphBuilder b, Value x, ICollectives group, double momentum = 0.1, double eps = 1e-5, string? name = null) =>
        b.Add1(new SyncBatchNorm(group, momentum, eps), name ?? b.Unique("syncbn"), x);
}
