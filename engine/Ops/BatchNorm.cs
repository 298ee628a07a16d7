using Engine.Ops.Cpu;
using System.Numerics;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Batch normalisation per channel of [N, C] or [N, C, H, W] inputs, with PyTorch's semantics.
/// Training: normalise by the batch mean and biased variance, and move the running statistics
/// toward the batch's (running = (1 - momentum) * running + momentum * batch, with the unbiased
/// variance). Evaluation: normalise by the running statistics, a fixed affine map.
/// Statistics and per-element arithmetic are in double whatever the element type, so float
/// inputs far from zero (mean much larger than spread) still normalise accurately.
/// </summary>
public sealed partial class BatchNorm : Op
{
    public BatchNorm(double momentum = 0.1, double eps = 1e-5)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "batch norm momentum must lie in [0, 1]");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "batch norm eps must be positive");
        Momentum = momentum;
        Eps = eps;
    }

    public double Momentum { get; }
    public double Eps { get; }

    public override string Type => "batchnorm";
    public override bool BackwardReadsInput(int input) => input == 0;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;

    public override Shape[] InferShapes(Shape[] inputs) => ChannelShape(inputs);
    public override ParamSpec[] Parameters(Shape[] inputs) => ChannelParameters(inputs);
    public override ParamSpec[] States(Shape[] inputs) => RunningStatistics(inputs);

    /// <summary>The shape rule, parameters and states of batch normalisation, shared with <see cref="BatchNormActivation"/> so their checkpoints are interchangeable.</summary>
    internal static Shape[] ChannelShape(Shape[] inputs)
    {
        var s = inputs[0];
        if (s.Rank != 2 && s.Rank != 4) throw Bad($"batch norm needs C or CxHxW samples, got {s.DropFirst()}");
        return [s];
    }

    internal static ParamSpec[] ChannelParameters(Shape[] inputs) =>
        [new("weight", new Shape(inputs[0][1]), Init.Ones), new("bias", new Shape(inputs[0][1]), Init.Zeros)];

    internal static ParamSpec[] RunningStatistics(Shape[] inputs) =>
        [new("running_mean", new Shape(inputs[0][1]), Init.Zeros), new("running_var", new Shape(inputs[0][1]), Init.Ones)];

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) ForwardNhwc(n);
        else ChannelStatistics.Forward(n, Momentum, Eps, (c, mean, invStd) => Normalize(n, c, mean, invStd));
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) BackwardNhwc(n);
        else ChannelStatistics.WithForwardStatistics(n, Eps, (c, mean, invStd, batchStatistics) => ChannelBackward(n, c, mean, invStd, batchStatistics));
    }

    /// <summary>y = (x - mean) / std * weight + bias over channel c.</summary>
    internal static void Normalize<T>(CpuNode<T> n, int c, double mean, double invStd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        var x = n.In(0);
        var y = n.Out(0);
        double scale = invStd * double.CreateTruncating(n.Param(0)[c]);
        double shift = double.CreateTruncating(n.Param(1)[c]);
        for (int s = 0; s < batch; s++)
        {
            int start = (s * channels + c) * plane;
            AffineMaps.Normalize<T>(x.Slice(start, plane), y.Slice(start, plane), mean, scale, shift);
        }
    }

    /// <summary>
    /// Gradients of channel c. With batch statistics the mean and variance depend on x:
    /// dx = weight / std * (dy - mean(dy) - xhat * mean(dy * xhat)); with running statistics
    /// the map is affine: dx = weight / std * dy.
    /// </summary>
    private static void ChannelBackward<T>(CpuNode<T> n, int c, double mean, double invStd, bool batchStatistics)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (sumDy, sumDyDeviation) = GradientSums(n, c, mean);
        double sumDyXhat = sumDyDeviation * invStd;
        n.ParamGrad(0)[c] += T.CreateTruncating(sumDyXhat);
        n.ParamGrad(1)[c] += T.CreateTruncating(sumDy);
        if (!n.HasInGrad(0)) return;
        var (batch, _, plane) = ParallelWork.NchwLayout(n.InShape(0));
        double count = (double)batch * plane;
        InputGradient(n, c, mean, invStd, batchStatistics ? sumDy / count : 0, batchStatistics ? sumDyXhat / count : 0);
    }

    /// <summary>Channel c's sum of dy and of dy * (x - mean) over the batch.</summary>
    internal static (double SumDy, double SumDyDeviation) GradientSums<T>(CpuNode<T> n, int c, double mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        ReadOnlySpan<T> x = n.In(0);
        ReadOnlySpan<T> dy = n.OutGrad(0);
        double sumDy = 0, sumDyDeviation = 0;
        for (int s = 0; s < batch; s++)
        {
            int start = (s * channels + c) * plane;
            var (g, gd) = Reductions.SumAndDeviationDot(dy.Slice(start, plane), x.Slice(start, plane), mean);
            sumDy += g;
            sumDyDeviation += gd;
        }
        return (sumDy, sumDyDeviation);
    }

    /// <summary>dx (+)= weight / std * (dy - meanDy - xhat * meanDyXhat) over channel c (= for the first writer).</summary>
    internal static void InputGradient<T>(CpuNode<T> n, int c, double mean, double invStd, double meanDy, double meanDyXhat)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        ReadOnlySpan<T> x = n.In(0);
        ReadOnlySpan<T> dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        double scale = double.CreateTruncating(n.Param(0)[c]) * invStd;
        for (int s = 0; s < batch; s++)
        {
            int start = (s * channels + c) * plane;
            AffineMaps.InputGradient(dy.Slice(start, plane), x.Slice(start, plane), dx.Slice(start, plane), mean, scale, meanDy, invStd * meanDyXhat, n.OverwriteInGrad(0));
        }
    }
}

public static partial class Layers
{
    public static Value BatchNorm(this GraphBuilder b, Value x, double momentum = 0.1, double eps = 1e-5, string? name = null) =>
        b.Add1(new BatchNorm(momentum, eps), name ?? b.Unique("bn"), x);
}
