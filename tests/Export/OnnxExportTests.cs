using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Export;

/// <summary>Every registered net (and the norm and head variants) exported to ONNX and run by ONNX Runtime against the engine's eval output.</summary>
public class OnnxExportTests
{
    private const double Tolerance = 1e-4;

    private static IEnumerable<TestCaseData> Nets()
    {
        foreach (var net in NetRegistry.All)
            yield return Case(net.Name, Small(net));
        yield return Case("vgg11", Small(NetRegistry.Find("vgg11")) with { Norm = Norm.Group }, "gn");
        yield return Case("vgg11-lrn", Small(NetRegistry.Find("vgg11-lrn")) with { Norm = Norm.Batch, FuseNormActivation = false }, "bn unfused");
        yield return Case("vgg16", Small(NetRegistry.Find("vgg16")) with { DenseEvaluation = true, DenseKernel = 1 }, "dense eval");
        yield return Case("segnet", Small(NetRegistry.Find("segnet")) with { Norm = Norm.Group }, "gn");
        yield return Case("segnet", Small(NetRegistry.Find("segnet")) with { Norm = Norm.SyncBatch }, "syncbn");
    }

    private static TestCaseData Case(string net, NetOptions options, string? variant = null) =>
        new TestCaseData(net, options).SetArgDisplayNames(variant is null ? [net] : [net, variant]);

    private static NetOptions Small(NetInfo net) => net.Segmentation
        ? new NetOptions { Width = 1.0 / 8, Input = net.Name.StartsWith("vovnet57-seg", StringComparison.Ordinal) ? new Shape(3, 64, 96) : new Shape(3, 32, 48), Classes = 5 }
        : new NetOptions { Width = 1.0 / 16, Input = net.Name.StartsWith("vovnet") ? new Shape(3, 48, 64) : new Shape(3, 32, 32), Classes = 6 };

    [TestCaseSource(nameof(Nets))]
    public void Onnx_runtime_matches_the_engine_in_eval_mode(string name, NetOptions options)
    {
        var run = OnnxRun.Of(NetRegistry.Build(name, options));
        Assert.That(run.OnnxLogits, Has.Length.EqualTo(run.EngineLogits.Length));
        double scale = run.EngineLogits.Max(v => Math.Abs(v));
        TestContext.Out.WriteLine($"{name}: max |logit| {scale:G3}, max |onnx - engine| {MaxDifference(run.OnnxLogits, run.EngineLogits):G3}");
        Assert.That(scale, Is.GreaterThan(1e-3), "logits that are all about zero would prove nothing");
        // float32 rounding grows with the values: relative to the largest logit once that is above 1.
        Assert.That(run.OnnxLogits, Is.EqualTo(run.EngineLogits).Within(Tolerance * Math.Max(1, scale)), "logits");
        Assert.That(run.OnnxProbabilities, Is.EqualTo(Softmax(run.EngineLogits, run.LogitsShape)).Within(Tolerance), "probabilities");
        if (NetRegistry.Find(name).Segmentation) AssertMasksAgree(run);
        else Assert.That(run.OnnxMask, Is.Null, "a per-image net has no mask output");
    }

    /// <summary>The mask is the arg max over classes; a pixel whose two best engine scores lie within the tolerance may go either way.</summary>
    private static void AssertMasksAgree(OnnxRun run)
    {
        Assert.That(run.OnnxMask, Is.Not.Null, "a per-pixel net exports its mask");
        int classes = run.LogitsShape[1], plane = run.LogitsShape[2] * run.LogitsShape[3];
        int agreed = 0;
        for (int n = 0; n < run.LogitsShape[0]; n++)
            for (int p = 0; p < plane; p++)
            {
                var scores = Enumerable.Range(0, classes).Select(c => run.EngineLogits[(n * classes + c) * plane + p]).ToArray();
                int best = Array.IndexOf(scores, scores.Max());
                long got = run.OnnxMask![n * plane + p];
                if (got == best) { agreed++; continue; }
                Assert.That(scores[best] - scores[got], Is.LessThanOrEqualTo(Tolerance), $"mask of sample {n} at pixel {p}: {got}, the engine's best class {best}");
            }
        TestContext.Out.WriteLine($"mask: {agreed} of {run.OnnxMask!.Length} pixels the engine's arg max");
        Assert.That(agreed, Is.GreaterThan(run.OnnxMask!.Length * 0.99), "masks agree");
        Assert.That(run.OnnxMask!.Distinct().Count(), Is.GreaterThan(1), "a mask of one class would prove little");
    }

    private static float[] Softmax(float[] logits, int[] shape)
    {
        int classes = shape[1], inner = shape.Skip(2).Aggregate(1, (a, b) => a * b);
        var p = new float[logits.Length];
        for (int n = 0; n < shape[0]; n++)
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int c = 0; c < classes; c++) max = Math.Max(max, logits[(n * classes + c) * inner + i]);
                for (int c = 0; c < classes; c++) sum += Math.Exp(logits[(n * classes + c) * inner + i] - max);
                for (int c = 0; c < classes; c++) p[(n * classes + c) * inner + i] = (float)(Math.Exp(logits[(n * classes + c) * inner + i] - max) / sum);
            }
        return p;
    }

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
}
