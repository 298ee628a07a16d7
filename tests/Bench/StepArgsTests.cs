using Engine.Bench.Step;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Bench;

/// <summary>The step bench's command line: what it accepts and the one-line errors for what it does not.</summary>
public class StepArgsTests
{
    [Test]
    public void ParsesEveryOption()
    {
        var a = StepArgs.Parse(["--net", "vgg16", "--input", "3x224x224", "--batch", "64", "--classes", "10", "--width", "2",
            "--norm", "gn", "--steps", "5", "--warmup", "0", "--gpu", "1", "--precision", "tf32", "--layout", "nhwc", "--conv-search", "benchmark",
            "--conv-api", "graph", "--nondeterministic", "--cuda-graph", "off", "--optimizer", "adam", "--profile", "--markdown", "out.md", "--save-weights", "w.safetensors"]);
        Assert.That(a, Is.EqualTo(new StepArgs
        {
            Net = "vgg16", Input = new Shape(3, 224, 224), Batch = 64, Classes = 10, Width = 2, Norm = Norm.Group, Steps = 5, Warmup = 0,
            Gpu = 1, Precision = Graph.Precision.Tf32, Layout = Layout.Nhwc, ConvBenchmark = true, ConvGraphApi = true, Nondeterministic = true, CudaGraph = false, Optimizer = "adam", Profile = true,
            Markdown = "out.md", SaveWeights = "w.safetensors",
        }));
    }

    [Test]
    public void DefaultsAreTheCpuSegNetStep() =>
        Assert.That(StepArgs.Parse([]), Is.EqualTo(new StepArgs { Net = "segnet", Input = new Shape(3, 64, 64), Batch = 4, Steps = 10, Warmup = 2, Gpu = null }));

    [TestCase(new[] { "--batch", "0" }, "--batch '0': expected a positive whole number")]
    [TestCase(new[] { "--steps", "x" }, "--steps 'x': expected a positive whole number")]
    [TestCase(new[] { "--warmup", "-1" }, "--warmup '-1': expected a whole number, 0 or more")]
    [TestCase(new[] { "--input", "224x224" }, "--input '224x224': expected CxHxW")]
    [TestCase(new[] { "--width", "0" }, "--width '0': expected a positive number")]
    [TestCase(new[] { "--norm", "layer" }, "--norm 'layer': expected bn, gn or none")]
    [TestCase(new[] { "--optimizer", "lamb" }, "--optimizer 'lamb': expected sgd or adam")]
    [TestCase(new[] { "--conv-search", "fast" }, "--conv-search 'fast': expected heuristic or benchmark")]
    [TestCase(new[] { "--cuda-graph", "yes" }, "--cuda-graph 'yes': expected on or off")]
    [TestCase(new[] { "--conv-search", "benchmark" }, "--conv-search and --nondeterministic need --gpu N")]
    [TestCase(new[] { "--tf32" }, "--tf32 is now --precision tf32")]
    [TestCase(new[] { "--precision", "tf32" }, "--precision tf32 needs --gpu N")]
    [TestCase(new[] { "--precision", "fp16" }, "--precision 'fp16': expected fp32, tf32, bf16 or fp64")]
    [TestCase(new[] { "--layout", "chwn" }, "--layout 'chwn': expected nchw or nhwc")]
    [TestCase(new[] { "--conv-api", "fast" }, "--conv-api 'fast': expected legacy or graph")]
    [TestCase(new[] { "--conv-api", "graph" }, "--conv-api needs --gpu N")]
    [TestCase(new[] { "--net" }, "--net needs a value")]
    [TestCase(new[] { "--bogus" }, "unknown argument '--bogus'")]
    public void BadArgumentsAreNamed(string[] args, string message)
    {
        var e = Assert.Throws<StepArgsException>(() => StepArgs.Parse(args))!;
        Assert.That(e.Message, Does.StartWith(message));
    }
}
