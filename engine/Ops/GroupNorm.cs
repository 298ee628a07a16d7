using Engine.Ops.Cpu;
using System.Numerics;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Group normalisation of [N, C] or [N, C, H, W] inputs: the channels of each sample are split
/// into <see cref="Groups"/> consecutive groups, each normalised by its own mean and biased
/// variance (two passes; statistics and per-element arithmetic in double whatever the element
/// type), then scaled and shifted per channel.
/// The same in training and evaluation; no running statistics.
/// </summary>
public sealed partial class GroupNorm : Op
{
    public GroupNorm(int groups = 32, double eps = 1e-5)
    {
        if (groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, "group norm needs at least one group");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "group norm eps must be positive");
        Groups = groups;
        Eps = eps;
    }

    public int Groups { get; }
    public double Eps { get; }

    public override string Type => "groupnorm";
    public override bool BackwardReadsInput(int input) => input == 0;
    public override bool BackwardReadsOutput(int output) => false;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var s = inputs[0];
        if (s.Rank != 2 && s.Rank != 4) throw Bad($"group norm needs C or CxHxW samples, got {s.DropFirst()}");
        if (s[1] % Groups != 0) throw Bad($"{Groups} groups do not divide {s[1]} channels; choose a group count that divides the channel count");
        return [s];
    }

    public override ParamSpec[] Parameters(Shape[] inputs) =>
        [new("weight", new Shape(inputs[0][1]), Init.Ones), new("bias", new Shape(inputs[0][1]), Init.Zeros)];

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        var (batch, _, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int groupSize = GroupSize(n.InShape(0));
        // [mean, 1 / std] per (sample, group), kept for backward.
        var stats = n.Scratch<double>(0, 2L * batch * Groups);
        ParallelWork.For(batch * Groups, (long)groupSize * plane, ng =>
        {
            var x = n.In(0);
            var y = n.Out(0);
            ReadOnlySpan<T> block = x.Slice(ng * groupSize * plane, groupSize * plane);
            double mean = Reductions.Sum(block) / block.Length;
            double invStd = 1 / Math.Sqrt(Reductions.SumSquaredDeviations(block, mean) / block.Length + Eps);
            stats[2 * ng] = mean;
            stats[2 * ng + 1] = invStd;

            int firstChannel = ng % Groups * groupSize;
            for (int j = 0; j < groupSize; j++)
            {
                double scale = invStd * double.CreateTruncating(n.Param(0)[firstChannel + j]);
                double bias = double.CreateTruncating(n.Param(1)[firstChannel + j]);
                int start = (ng * groupSize + j) * plane;
                AffineMaps.Normalize<T>(x.Slice(start, plane), y.Slice(start, plane), mean, scale, bias);
            }
        });
    }

    /// <summary>
    /// With g = dy * weight per element and xhat the normalised input, over each group:
    /// dx = (g - mean(g) - xhat * mean(g * xhat)) / std; weight and bias gradients are summed
    /// per channel over samples and positions.
    /// </summary>
    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        var (batch, channels, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int groupSize = GroupSize(n.InShape(0));
        var stats = n.Scratch<double>(0, 2L * batch * Groups);

        // Parameter gradients per channel (summing over samples; no two channels share an element).
        ParallelWork.For(channels, (long)batch * plane, c =>
        {
            ReadOnlySpan<T> x = n.In(0);
            ReadOnlySpan<T> dy = n.OutGrad(0);
            double sumDy = 0, sumDyXhat = 0;
            for (int s = 0; s < batch; s++)
            {
                int ng = s * Groups + c / groupSize;
                int start = (s * channels + c) * plane;
                var (g, gDeviation) = Reductions.SumAndDeviationDot(dy.Slice(start, plane), x.Slice(start, plane), stats[2 * ng]);
                sumDy += g;
                sumDyXhat += gDeviation * stats[2 * ng + 1];
            }
            n.ParamGrad(0)[c] += T.CreateTruncating(sumDyXhat);
            n.ParamGrad(1)[c] += T.CreateTruncating(sumDy);
        });
        if (!n.HasInGrad(0)) return;

        ParallelWork.For(batch * Groups, (long)groupSize * plane, ng =>
        {
            var x = n.In(0);
            var dy = n.OutGrad(0);
            var dx = n.InGrad(0);
            double mean = stats[2 * ng], invStd = stats[2 * ng + 1];
            int firstChannel = ng % Groups * groupSize;
            double sumG = 0, sumGXhat = 0;
            for (int j = 0; j < groupSize; j++)
            {
                double weight = double.CreateTruncating(n.Param(0)[firstChannel + j]);
                int start = (ng * groupSize + j) * plane;
                for (int i = start; i < start + plane; i++)
                {
                    double g = double.CreateTruncating(dy[i]) * weight;
                    sumG += g;
                    sumGXhat += g * (double.CreateTruncating(x[i]) - mean) * invStd;
                }
            }
            double count = (double)groupSize * plane;
            double meanG = sumG / count, meanGXhat = sumGXhat / count;
            for (int j = 0; j < groupSize; j++)
            {
                double weight = double.CreateTruncating(n.Param(0)[firstChannel + j]);
                int start = (ng * groupSize + j) * plane;
                for (int i = start; i < start + plane; i++)
                {
                    double xhat = (double.CreateTruncating(x[i]) - mean) * invStd;
                    dx[i] += T.CreateTruncating(invStd * (double.CreateTruncating(dy[i]) * weight - meanG - xhat * meanGXhat));
                }
            }
        });
    }

    private int GroupSize(Shape s) => s[1] / Groups;
}

public static partial class Layers
{
    public static Value GroupNorm(this GraphBuilder b, Value x, int groups = 32, double eps = 1e-5, string? name = null) =>
        b.Add1(new GroupNorm(groups, eps), name ?? b.Unique("gn"), x);
}
