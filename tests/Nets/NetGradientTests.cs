using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Nets;

/// <summary>
/// Whole tiny versions of every net (few channels, 16-32 pixels), forward and backward in
/// float64 against central differences on a sample of every parameter and of the image.
/// </summary>
public class NetGradientTests
{
    private const int Batch = 2;

    private static IEnumerable<TestCaseData> TinyNets()
    {
        foreach (var net in NetRegistry.All)
        {
            var tiny = Tiny(net);
            yield return new TestCaseData(net.Name, tiny).SetArgDisplayNames(net.Name);
            if (net.Name is "vovnet57" or "vgg11" or "fcn")
                yield return new TestCaseData(net.Name, tiny with { Norm = Norm.Group }).SetArgDisplayNames(net.Name, "gn");
        }
        yield return new TestCaseData("vgg16-c", Tiny(NetRegistry.Find("vgg16-c")) with { Norm = Norm.Batch }).SetArgDisplayNames("vgg16-c", "bn");
        yield return new TestCaseData("segnet", Tiny(NetRegistry.Find("segnet")) with { Classes = 5, IgnoreLabel = 255 })
            .SetArgDisplayNames("segnet", "ignore 255");
    }

    /// <summary>Nets are checked at widths of 2..64 channels (VGG's hidden layers 256).</summary>
    private static NetOptions Tiny(NetInfo net) => net.Segmentation
        ? new NetOptions { Width = 1.0 / 8, Input = new Shape(3, 16, 16), Classes = 5 }
        : new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4 };

    [TestCaseSource(nameof(TinyNets))]
    public void Tiny_net_gradients_match_central_differences(string name, NetOptions options)
    {
        var g = NetRegistry.Build(name, options);
        var labels = Labels(g, options);
        var checker = new GradientChecker { SamplesPerTensor = 2, Threshold = 1e-6 };
        var report = checker.Check(g, Batch, g.Output("logits"), exec => exec.SetInput("label", labels));
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.GreaterThanOrEqualTo(2 * g.Parameters.Views.Count));
        Assert.That(report.SkippedAsKinks, Is.LessThan(report.Checked / 10), report.ToString());

        var lossReport = new GradientChecker { SamplesPerTensor = 1, Threshold = 1e-6 }
            .Check(g, Batch, g.Loss!, exec => exec.SetInput("label", labels));
        Assert.That(lossReport.Failures, Is.Empty, lossReport.ToString());
    }

    /// <summary>Valid labels in [0, classes), with every fifth one the ignore label where the net has one.</summary>
    private static int[] Labels(Graph.Graph g, NetOptions o)
    {
        var n = (int)g.Input("label").Shape.WithBatch(Batch).Numel;
        return Enumerable.Range(0, n).Select(i => o.IgnoreLabel >= 0 && i % 5 == 0 ? o.IgnoreLabel : (i * 7 + 3) % o.Classes!.Value).ToArray();
    }
}
