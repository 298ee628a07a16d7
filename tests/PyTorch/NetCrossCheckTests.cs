using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.PyTorch;

/// <summary>
/// Forward and backward of small versions of every net family against their PyTorch twins
/// (tools/reference/nets.py): logits, loss, and the gradients of the loss (softmax cross-entropy
/// against the labels, focal + Dice for vovnet57-seg; the segmentation nets with ignored pixels) for every parameter and the image.
/// The VoVNets run in training mode (batch statistics, running-stat updates compared too); VGG and
/// SegNet in eval mode, since their dropout masks cannot be shared with PyTorch. In float32 the
/// training-mode VoVNet differs from PyTorch by ~1e-4, which is the size of either one's float32
/// roundoff against the float64 result; there the engine must be as accurate as PyTorch.
/// </summary>
[TestFixture, NonParallelizable]
public class NetCrossCheckTests
{
    private const int Ignore = 255;

    private static CrossCheckCase Net(string name, Shape input, int classes, double width, bool training, int batch = 2)
    {
        bool segmentation = NetRegistry.Find(name).Segmentation;
        int ignore = segmentation ? Ignore : -1;
        var args = new Dictionary<string, object> { ["net"] = name, ["classes"] = classes, ["width"] = width };
        if (segmentation) args["ignore"] = Ignore;
        if (NetRegistry.Find(name).DefaultLoss == SegmentationLoss.FocalDice) args["loss"] = "focal_dice";
        return new()
        {
            Id = $"net_{name}", Kind = "net", Batch = batch, Training = training, InputRange = (0, 1), Objective = "loss",
            Build = () => NetRegistry.Build(name, new NetOptions { Input = input, Classes = classes, Width = width, IgnoreLabel = ignore }),
            // About one pixel in six ignored.
            IntInput = (v, s, rng) => Enumerable.Range(0, (int)s.Numel).Select(_ => segmentation && rng.NextInt(6) == 0 ? Ignore : rng.NextInt(classes)).ToArray(),
            Args = args,
        };
    }

    public static IEnumerable<CrossCheckCase> Cases()
    {
        yield return Net("vovnet57", new Shape(3, 64, 64), 5, 1.0 / 16, training: true, batch: 4);
        yield return Net("vgg11", new Shape(3, 32, 32), 5, 1.0 / 16, training: false);
        yield return Net("segnet", new Shape(3, 32, 32), 6, 1.0 / 4, training: false);
        yield return Net("fcn", new Shape(3, 32, 32), 6, 1.0 / 4, training: false);
        yield return Net("vovnet57-seg", new Shape(3, 64, 64), 5, 1.0 / 16, training: true);
    }

    private CrossCheckRun? _run;

    [OneTimeSetUp]
    public void RunPyTorch() => _run = CrossCheckRun.Start(Cases(), "nets");

    [OneTimeTearDown]
    public void CleanUp() => _run?.Dispose();

    [TestCaseSource(nameof(Cases))]
    public void Float64_matches_pytorch(CrossCheckCase c) => _run!.Compare(c, useDouble: true, tolerance: 1e-10);

    [TestCaseSource(nameof(Cases))]
    public void Float32_matches_pytorch_or_is_as_accurate(CrossCheckCase c) => _run!.Compare(c, useDouble: false, tolerance: 1e-5, roundoffFallback: true);
}
