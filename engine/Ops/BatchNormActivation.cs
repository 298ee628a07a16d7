using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Batch normalisation followed by an activation, as one node: y = act(z), z = xhat * weight + bias,
/// with exactly <see cref="BatchNorm"/>'s semantics, parameters and states (so checkpoints of fused
/// and unfused nets are interchangeable). Backward keeps only the input x and the per-channel
/// mean and 1 / std and recomputes z, so neither z nor y has to live until backward. The output
/// (and its gradient) may be a channel slice of a concatenation: samples
/// <see cref="CpuNode{T}.OutSampleStride"/> elements apart.
/// </summary>
public sealed partial class BatchNormActivation : Op
{
    public BatchNormActivation(ActivationKind activation, double momentum = 0.1, double eps = 1e-5)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "batch norm momentum must lie in [0, 1]");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "batch norm eps must be positive");
        Activation = activation;
        Momentum = momentum;
        Eps = eps;
    }

    public ActivationKind Activation { get; }
    public double Momentum { get; }
    public double Eps { get; }

    public override string Type => Activation == ActivationKind.Mish ? "bn+mish" : "bn+relu";

    public override Shape[] InferShapes(Shape[] inputs) => BatchNorm.ChannelShape(inputs);
    public override ParamSpec[] Parameters(Shape[] inputs) => BatchNorm.ChannelParameters(inputs);
    public override ParamSpec[] States(Shape[] inputs) => BatchNorm.RunningStatistics(inputs);

    public override bool BackwardReadsInput(int input) => true;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool WritesStridedOutput(int output) => true;
    public override bool OverwritesInputGradient(int input) => true;
    public override bool CanRecomputeOutput => true;

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) ForwardNhwc(n);
        else ChannelStatistics.Forward(n, Momentum, Eps, (c, mean, invStd) => Apply(n, c, mean, invStd));
    }

    public override void Recompute<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) RecomputeNhwc(n);
        else ChannelStatistics.WithForwardStatistics(n, Eps, (c, mean, invStd, _) => Apply(n, c, mean, invStd));
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) BackwardNhwc(n);
        else ChannelStatistics.WithForwardStatistics(n, Eps, (c, mean, invStd, batchStatistics) => ChannelBackward(n, c, mean, invStd, batchStatistics));
    }

    /// <summary>y = act((x - mean) / std * weight + bias) over channel c, z rounded to T first as an unfused net stores it.</summary>
    private void Apply<T>(CpuNode<T> n, int c, double mean, double invStd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        var x = n.In(0);
        var y = n.Out(0);
        long stride = n.OutSampleStride(0);
        double scale = invStd * double.CreateTruncating(n.Param(0)[c]);
        double shift = double.CreateTruncating(n.Param(1)[c]);
        for (int s = 0; s < batch; s++)
        {
            var ys = y.Slice((int)(s * stride) + c * plane, plane);
            if (typeof(T) == typeof(float))
            {
                NormActivationKernels.Forward(Activation, MemoryMarshal.Cast<T, float>(x.Slice((s * channels + c) * plane, plane)),
                    MemoryMarshal.Cast<T, float>(ys), mean, scale, shift);
                continue;
            }
            AffineMaps.Normalize<T>(x.Slice((s * channels + c) * plane, plane), ys, mean, scale, shift);
            ActivationMaps.Apply(Activation, ys);
        }
    }

    /// <summary>
    /// Gradients of channel c: dz = dy * act'(z) with z recomputed from x, then BatchNorm's
    /// backward with dz for dy: dx = weight / std * (dz - mean(dz) - xhat * mean(dz * xhat)) with
    /// batch statistics, dx = weight / std * dz with running ones.
    /// </summary>
    private void ChannelBackward<T>(CpuNode<T> n, int c, double mean, double invStd, bool batchStatistics)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        ReadOnlySpan<T> x = n.In(0);
        ReadOnlySpan<T> dy = n.OutGrad(0);
        long stride = n.OutSampleStride(0);
        double scale = double.CreateTruncating(n.Param(0)[c]) * invStd;
        double shift = double.CreateTruncating(n.Param(1)[c]);
        var rented = ArrayPool<T>.Shared.Rent(batch * plane);
        try
        {
            var dz = rented.AsSpan(0, batch * plane);
            double sumDz = 0, sumDzDeviation = 0;
            for (int s = 0; s < batch; s++)
            {
                var xs = x.Slice((s * channels + c) * plane, plane);
                var dzs = dz.Slice(s * plane, plane);
                var dys = dy.Slice((int)(s * stride) + c * plane, plane);
                var (g, gd) = typeof(T) == typeof(float)
                    ? NormActivationKernels.Gradient(Activation, MemoryMarshal.Cast<T, float>(xs), MemoryMarshal.Cast<T, float>(dys),
                        MemoryMarshal.Cast<T, float>(dzs), mean, scale, shift)
                    : ReferenceGradient(xs, dys, dzs, mean, scale, shift);
                sumDz += g;
                sumDzDeviation += gd;
            }
            double sumDzXhat = sumDzDeviation * invStd;
            n.ParamGrad(0)[c] += T.CreateTruncating(sumDzXhat);
            n.ParamGrad(1)[c] += T.CreateTruncating(sumDz);
            if (!n.HasInGrad(0)) return;

            var dx = n.InGrad(0);
            double count = (double)batch * plane;
            double meanDz = batchStatistics ? sumDz / count : 0;
            double meanDzXhat = batchStatistics ? sumDzXhat / count : 0;
            for (int s = 0; s < batch; s++)
            {
                int start = (s * channels + c) * plane;
                AffineMaps.InputGradient<T>(dz.Slice(s * plane, plane), x.Slice(start, plane), dx.Slice(start, plane),
                    mean, scale, meanDz, invStd * meanDzXhat, n.OverwriteInGrad(0));
            }
        }
        finally { ArrayPool<T>.Shared.Return(rented); }
    }

    /// <summary>dz = dy * act'(z) over one plane and (Σ dz, Σ dz (x - mean)), in three plain passes (the double path).</summary>
    private (double, double) ReferenceGradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dz, double mean, double scale, double shift)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        AffineMaps.Normalize<T>(x, dz, mean, scale, shift);
        ActivationMaps.Gradient(Activation, dy, dz);
        return Reductions.SumAndDeviationDot<T>(dz, x, mean);
    }
}

public static partial class Layers
{
    public static Value BatchNormActivation(this GraphBuilder b, Value x, ActivationKind activation, double momentum = 0.1, double eps = 1e-5,
        string? name = null) =>
        b.Add1(new BatchNormActivation(activation, momentum, eps), name ?? b.Unique(activation == ActivationKind.Mish ? "bn_mish" : "bn_relu"), x);
}
