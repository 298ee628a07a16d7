using Engine.Nets;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Nets;

/// <summary>
/// Whole tiny versions of every net (2..64 channels, 32 to 64 pixels a side), forward and backward in
/// float64, training mode (batch statistics, dropout masks), against central differences on one
/// sampled element of about 40 parameter tensors per net and of the image.
/// </summary>
/// <remarks>
/// Sizes keep the deepest batch-normalised maps at 2x2 or more: at 1x1 with a batch of 2, BN
/// normalises two numbers to +-1 and the net becomes so steep (gradients ~1e4) that central
/// differences with h = 1e-6 no longer agree with themselves.
/// The checker skips an element as a kink when the difference quotient changes with h. In the
/// ReLU nets a few per cent do: a first-layer weight moves ~1e5 pre-activations, some of which
/// cross zero within +-h, and conv biases feeding a BN have a true gradient of 0 whose
/// difference quotient is rounding noise (~1e-5). More than one in eight would hide real errors.
/// </remarks>
public class NetGradientTests
{
    private const int Batch = 2;

    private static IEnumerable<TestCaseData> TinyNets()
    {
        foreach (var net in NetRegistry.All)
            yield return Case(net.Name, Tiny(net), "logits");
        yield return Case("vovnet57-seg", Tiny(NetRegistry.Find("vovnet57-seg")) with { IgnoreLabel = 255 }, "loss", "focal + dice, ignore 255");
        yield return Case("vovnet57", Tiny(NetRegistry.Find("vovnet57")) with { Norm = Norm.Group }, "logits", "gn");
        yield return Case("vgg11", Tiny(NetRegistry.Find("vgg11")) with { Norm = Norm.Group }, "loss", "gn");
        yield return Case("vgg16-c", Tiny(NetRegistry.Find("vgg16-c")) with { Norm = Norm.Batch }, "logits", "bn");
        yield return Case("fcn", Tiny(NetRegistry.Find("fcn")) with { Norm = Norm.Group }, "logits", "gn");
        yield return Case("segnet", Tiny(NetRegistry.Find("segnet")) with { IgnoreLabel = 255 }, "loss", "ignore 255");
    }

    private static TestCaseData Case(string net, NetOptions options, string output, string? variant = null) =>
        new TestCaseData(net, options, output).SetArgDisplayNames(variant is null ? [net, output] : [net, variant, output]);

    private static NetOptions Tiny(NetInfo net) => net.Name.StartsWith("vovnet57-seg", StringComparison.Ordinal)
        ? new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 64, 64), Classes = 5 }
        : net.Segmentation
        ? new NetOptions { Width = 1.0 / 8, Input = new Shape(3, 32, 32), Classes = 5 }
        : new NetOptions { Width = 1.0 / 16, Input = net.Name.StartsWith("vovnet") ? new Shape(3, 48, 64) : new Shape(3, 32, 32), Classes = 4 };

    [TestCaseSource(nameof(TinyNets))]
    public void Tiny_net_gradients_match_central_differences(string name, NetOptions options, string output)
    {
        var g = NetRegistry.Build(name, options);
        var labels = Labels(g.Input("label").Shape.WithBatch(Batch).Numel, options);
        var sample = SampleTensors(g.Parameters.Views.Select(v => v.Name).ToList());
        var report = new GradientChecker { SamplesPerTensor = 1, Threshold = 1e-6, Include = n => n == "image" || sample.Contains(n) }
            .Check(g, Batch, g.Output(output), exec => exec.SetInput("label", labels));
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(sample.Count + 1));
        Assert.That(report.SkippedAsKinks, Is.LessThanOrEqualTo(report.Checked / 8), report.ToString());
    }

    /// <summary>
    /// About 40 of a net's parameter tensors: every s-th in layout order, s coprime to 12 so that
    /// the sample walks through conv weights, biases and norm scales and shifts alike (units repeat
    /// every 2, 3 or 4 tensors), plus the first and the last two (stem and head).
    /// </summary>
    private static HashSet<string> SampleTensors(List<string> names)
    {
        int stride = Math.Max(1, (names.Count + 39) / 40);
        while (Gcd(stride, 12) != 1) stride++;
        return names.Where((_, i) => i % stride == 0).Concat(names.TakeLast(2)).ToHashSet();
        static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
    }

    /// <summary>Labels in [0, classes), every fifth one the ignore label where the net has one.</summary>
    private static int[] Labels(long count, NetOptions o) => Enumerable.Range(0, (int)count)
        .Select(i => o.IgnoreLabel >= 0 && i % 5 == 0 ? o.IgnoreLabel : (i * 7 + 3) % o.Classes!.Value).ToArray();
}
