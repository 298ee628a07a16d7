using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Support;

/// <summary>One softmax loss node (logits x0, int labels x1) run forward and backward on the CPU.</summary>
public static class LossRun
{
    /// <summary>The label shape of per-sample logits [K] (a scalar) or per-pixel [K, H, W] ([H, W]).</summary>
    public static Shape LabelShape(Shape logits) => logits.Rank == 1 ? new Shape() : new Shape(logits[1], logits[2]);

    /// <summary>The loss and the gradient of the logits for dloss = <paramref name="dLoss"/>.</summary>
    public static (double Loss, double[] Grad) Run(Op op, double[] logits, int[] sampleShape, int[] labels, int batch,
        double dLoss = 1, bool useFloat = false)
    {
        var shape = new Shape(sampleShape);
        var (g, y) = OpHarness.Single(op, shape, LabelShape(shape));
        using Backend backend = useFloat ? new CpuBackend<float>() : new CpuBackend<double>();
        using var exec = new Executor(g, backend, batch, inputGradients: true);
        exec.SetInput("x0", logits);
        exec.SetInput("x1", labels);
        exec.Forward(training: true);
        exec.Backward(y[0], [dLoss]);
        return (exec.Read(y[0])[0], exec.ReadGrad(g.Inputs[0]));
    }

    /// <summary>Central-difference check of the logits' gradient; labels drawn from [-1, K) when not given (-1 is the ignore label then).</summary>
    public static GradientChecker.Report Check(Op op, int batch, int[] logitShape, int[]? labels, int ignoreLabel)
    {
        var logits = new Shape(logitShape);
        var labelShape = LabelShape(logits);
        var (g, y) = OpHarness.Single(op, logits, labelShape);
        if (labels is null)
        {
            var rng = new Rng(2);
            labels = [.. Enumerable.Range(0, batch * (int)labelShape.Numel).Select(_ => rng.NextInt(logitShape[0] + 1) - 1)];
            labels = [.. labels.Select(l => l < 0 ? ignoreLabel : l)];
        }
        return new GradientChecker().Check(g, batch, y[0], e => e.SetInput("x1", labels));
    }

    /// <summary>Softmax of one position's logits (a test-side reference, in plain form).</summary>
    public static double[] Softmax(IReadOnlyList<double> z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }
}
