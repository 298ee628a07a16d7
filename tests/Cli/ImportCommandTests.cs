using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Training.Checkpoints;
using Engine.Training.Reports;
using Engine.Weights;
using Host;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Cli;

/// <summary>Other libraries' weights through the command line: --init-from (partial or strict), host convert, predict outside a run.</summary>
[NonParallelizable]
public class ImportCommandTests
{
    private static readonly string[] TinyVgg = ["--net", "vgg11", "--width", "0.0625", "--input", "3x32x32"];

    private static (int Code, string Out, string Err) Run(params string[] args) =>
        CliRunner.Run([TrainCommand.Create(), PredictCommand.Create(), ConvertCommand.Create()], args);

    /// <summary>A vgg11 (1/16 width, adaptive pooling) saved under torchvision's names with <paramref name="classes"/> classes.</summary>
    private static string TorchvisionFile(TempDir dir, int classes)
    {
        using var backend = new CpuBackend<float>();
        using var p = new ParameterBuffers(NetRegistry.Build("vgg11",
            new NetOptions { Input = new Shape(3, 32, 32), Classes = classes, Width = 0.0625, AdaptivePool = true }), backend);
        p.Initialize(9);
        var path = dir[$"tv{classes}.safetensors"];
        WeightFile.SaveAs(path, p, NameMap.TorchvisionVgg);
        return path;
    }

    private static string[] Train(TempDir dir, string run, params string[] extra) =>
        ["train", .. TinyVgg, "--examples", "8", "--batch", "4", "--epochs", "1", "--threads", "1", "--out", dir[run], .. extra];

    [Test]
    public void Init_from_torchvision_names_replaces_the_head_and_says_so_and_strict_init_refuses_a_deeper_net()
    {
        using var dir = new TempDir();
        var file = TorchvisionFile(dir, classes: 3);

        var (code, _, err) = Run(Train(dir, "run", "--adaptive-pool", "--init-from", file));
        Assert.That(code, Is.Zero, err);
        var log = File.ReadAllText(Path.Combine(dir["run"], "train.log"));
        Assert.That(log, Does.Contain("names read as torchvision VGG's"));
        Assert.That(log, Does.Match(@"the head fc8\.weight has 3 classes in the file, \d+ in the net: it keeps its fresh initialisation"));

        string[] deeper = [.. Train(dir, "deeper", "--adaptive-pool", "--init-from", file, "--strict-init")];
        deeper[Array.IndexOf(deeper, "vgg11")] = "vgg13";
        (code, _, err) = Run(deeper);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("names read as torchvision VGG's").And.Contain("'block1.conv2.weight' is missing"));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1), "one line");
    }

    [Test]
    public void Convert_writes_engine_names_that_predict_reads_and_refuses_bad_arguments()
    {
        using var dir = new TempDir();
        var file = TorchvisionFile(dir, classes: 4);
        var (code, stdout, err) = Run(["convert", "--from", file, .. TinyVgg, "--out", dir["ours.safetensors"]]);
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("torchvision VGG names").And.Contain("4 classes, adaptive pooling before fc6"));
        Assert.That(SafeTensors.ReadHeader(dir["ours.safetensors"]).Tensors.Select(t => t.Name), Does.Contain("block5.conv2.weight"));

        var image = dir["x.png"];
        SegmentationImages.WriteMask(image, new int[36 * 36], 36, 36);
        (code, stdout, err) = Run(["predict", "--weights", file, .. TinyVgg, image]);
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("4. class "), "four classes, from the file's head");

        (code, _, err) = Run(["convert", "--from", file, .. TinyVgg, "--out", dir["x.pth"]]);
        Assert.That(err, Does.Contain("the file name must end in .safetensors"));
        (code, _, err) = Run(["convert", "--from", file, .. TinyVgg, "--to", "keras", "--out", dir["y.safetensors"]]);
        Assert.That(err, Does.Contain("unknown name layout 'keras'"));
        (code, _, err) = Run("convert", "--from", file, "--out", dir["z.safetensors"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--net is needed"));
    }

    [TestCase(new[] { "--normalize", "0.5,0.5/0.2" }, "--normalize '0.5,0.5/0.2': give one mean value or three (R,G,B), not 2")]
    [TestCase(new[] { "--normalize", "0.5/0" }, "every std must be positive")]
    [TestCase(new[] { "--scale", "30:40" }, "--scale 30:40: needs 32 <= MIN <= MAX")]
    [TestCase(new[] { "--scale", "40:50" }, "--scale 40:50: give one test scale Q")]
    public void Predict_names_a_bad_normalisation_or_test_scale(string[] option, string message)
    {
        using var dir = new TempDir();
        var file = TorchvisionFile(dir, classes: 4);
        var image = dir["x.png"];
        SegmentationImages.WriteMask(image, new int[36 * 36], 36, 36);
        var (code, _, err) = Run(["predict", "--weights", file, .. TinyVgg, image, .. option]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(message));
        Assert.That(err.Trim().Split('\n'), Has.Length.EqualTo(1));
    }
}
