using Engine.Data;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Tests.Training.Support;
using Engine.Training;
using Engine.Training.Checkpoints;

namespace Engine.Tests.Training;

public class DenseEvaluationTests
{
    [Test]
    public void Vgg_weights_trained_in_fc_form_load_into_the_dense_form_and_give_the_same_scores()
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        var options = new NetOptions { Input = new Shape(3, 32, 32), Classes = 10, Width = 0.0625 };
        var fc = NetRegistry.Build("vgg11", options);
        var dense = NetRegistry.Build("vgg11", options with { DenseEvaluation = true, DenseKernel = 1 });
        Assert.That(dense.Parameters["fc6.weight"].Shape, Is.Not.EqualTo(fc.Parameters["fc6.weight"].Shape), "the layouts differ");
        using var a = new ParameterBuffers(fc, backend);
        a.Initialize(3);
        WeightFile.Save(dir["vgg.safetensors"], a);
        using var b = new ParameterBuffers(dense, backend);
        WeightFile.LoadExact(dir["vgg.safetensors"], b);

        var rng = new Rng(5);
        var images = Enumerable.Range(0, 2 * 3 * 32 * 32).Select(_ => (float)rng.NextDouble()).ToArray();
        var batch = new Batch(images, new int[2], 2, new int[2]);
        var task = new TaskInfo(Engine.Data.TaskKind.Classification, 10);
        using var e1 = new Evaluator(fc, backend, a, task);
        using var e2 = new Evaluator(dense, backend, b, task);
        Assert.That(e2.Forward(batch).Logits, Is.EqualTo(e1.Forward(batch).Logits).Within(1e-5));
    }

    [Test]
    public void Flip_averaging_averages_the_scores_of_the_image_and_its_mirror()
    {
        using var backend = new CpuBackend<double>();
        var graph = TinyNets.Classifier(new Shape(2, 3, 4), classes: 3);
        using var p = new ParameterBuffers(graph, backend);
        p.Initialize(9);
        var rng = new Rng(1);
        var image = Enumerable.Range(0, 24).Select(_ => (float)rng.NextNormal()).ToArray();
        var task = new TaskInfo(Engine.Data.TaskKind.Classification, 3);
        using var plain = new Evaluator(graph, backend, p, task);
        using var averaged = new Evaluator(graph, backend, p, task) { AverageFlip = true };
        var mirror = Evaluator.Mirror(image, new Shape(1, 2, 3, 4));
        Assert.That(mirror[0], Is.EqualTo(image[3]));
        Assert.That(mirror[4], Is.EqualTo(image[7]));
        var x = plain.Forward(new Batch(image, new int[1], 1, new int[1])).Logits;
        var y = plain.Forward(new Batch(mirror, new int[1], 1, new int[1])).Logits;
        var avg = averaged.Forward(new Batch(image, new int[1], 1, new int[1])).Logits;
        Assert.That(avg, Is.EqualTo(x.Zip(y, (u, v) => 0.5f * (u + v)).ToArray()).Within(1e-6));
        Assert.That(x, Is.Not.EqualTo(y), "the net is not mirror-symmetric, so the test can fail");
    }
}
