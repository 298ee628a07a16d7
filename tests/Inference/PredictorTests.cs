using Engine.Data.Transforms;
using Engine.Inference;
using Engine.Tensors;
using Engine.Tests.Cli;
using Engine.Tests.PyTorch;
using Engine.Training.Reports;
using Host;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Inference;

/// <summary>The inference API on a run of `host train`: the README's example as written, and what `host predict` prints.</summary>
[NonParallelizable]
public class PredictorTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) =>
        CliRunner.Run([TrainCommand.Create(), PredictCommand.Create(), EvalCommand.Create()], args);

    private static string TrainTinyVgg(TempDir dir, params string[] extra)
    {
        var run = dir["run"];
        var (code, _, err) = Run(["train", "--net", "vgg11", "--width", "0.0625", "--input", "3x32x32", "--examples", "8", "--batch", "4",
            "--epochs", "1", "--threads", "1", "--out", run, .. extra]);
        Assert.That(code, Is.Zero, err);
        return run;
    }

    private static string Image(TempDir dir)
    {
        var path = dir["picture.png"];
        var mask = Enumerable.Range(0, 48 * 40).Select(i => i % 7 + i / 300).ToArray();
        SegmentationImages.WriteMask(path, mask, 40, 48);
        return path;
    }

    [Test]
    public void The_readme_example_compiles_and_prints_the_runs_class_names_with_predicts_probabilities()
    {
        using var dir = new TempDir();
        var run = TrainTinyVgg(dir);
        var image = Image(dir);
        var program = ReadmeExample.Compile(ReadmeExample.Code(Path.Combine(PythonTorch.RepoRoot, "README.md")));

        var printed = ReadmeExample.Run(program, run, image);

        using var predictor = Predictor.Load(run);
        var expected = predictor.Predict(image).Top(3);
        Assert.That(expected.Select(c => c.Name), Is.All.Not.StartWith("class "), "a run stores its class names");
        Assert.That(printed, Does.Contain($"{image}: {expected[0].Name} {expected[0].Probability:P1}"));
        Assert.That(printed.Trim().Split('\n'), Has.Length.EqualTo(3));
        var (code, stdout, err) = Run("predict", "--weights", run, image, "--top", "3");
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain($"1. {expected[0].Name}"));
    }

    [Test]
    public void A_run_stores_its_input_normalisation_and_predict_takes_class_names_and_a_test_scale()
    {
        using var dir = new TempDir();
        var run = TrainTinyVgg(dir, "--normalize", "imagenet");
        var image = Image(dir);
        using var predictor = Predictor.Load(run);
        Assert.That(predictor.Spec.Normalization, Is.SameAs(InputNormalization.ImageNet));
        var x = predictor.Preprocess(image).Data;
        // The VGG recipe's own output is 0..255 minus the mean; torchvision's normalisation keeps it within a few units.
        Assert.That(x.Max(), Is.LessThan(3f));
        Assert.That(x.Min(), Is.GreaterThan(-3f));

        var names = dir["names.txt"];
        File.WriteAllLines(names, Enumerable.Range(0, predictor.Spec.Classes!.Value).Select(c => $"kind-{c}"));
        var (code, stdout, err) = Run("predict", "--weights", run, image, "--class-names", names, "--scale", "40");
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("1. kind-"));

        (code, _, err) = Run("predict", "--weights", run, image, "--scale", "20");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--scale 20: needs 32 <= MIN <= MAX"));
        File.WriteAllLines(names, ["only-one"]);
        (code, _, err) = Run("predict", "--weights", run, image, "--class-names", names);
        Assert.That(err, Does.Contain($"--class-names {names}: 1 name(s) for a net of {predictor.Spec.Classes} classes"));
    }

    [Test]
    public void A_weights_file_outside_a_run_needs_a_spec_and_a_wrong_input_is_named()
    {
        using var dir = new TempDir();
        var run = TrainTinyVgg(dir);
        var weights = Path.Combine(dir.Path, "copy.safetensors");
        File.Copy(Path.Combine(run, "weights.safetensors"), weights);
        Assert.That(() => Predictor.Load(weights), Throws.ArgumentException.With.Message.Contains("give a ModelSpec"));
        using var fromRun = Predictor.Load(run);
        using var predictor = Predictor.Load(weights, Device.Cpu, new ModelSpec { Net = "vgg11", Input = new Shape(3, 32, 32), Width = 0.0625 });
        Assert.That(predictor.Spec.Classes, Is.EqualTo(fromRun.Spec.Classes), "the class count comes from the file's head");
        Assert.That(() => predictor.Predict(new Tensor<float>(new Shape(3, 16, 16))), Throws.ArgumentException.With.Message.Contains("the net takes 3x32x32"));
    }
}
