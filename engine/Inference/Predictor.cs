using Engine.Data;
using Engine.Data.Codecs;
using Engine.Data.Transforms;
using Engine.Tensors;
using Engine.Training;
using Engine.Training.Checkpoints;

namespace Engine.Inference;

/// <summary>
/// A trained net for use from a .NET program: load a run folder (or a weights file with a
/// <see cref="ModelSpec"/>), then <see cref="Predict(string)"/> an image file, or
/// <see cref="Predict(Tensor{float})"/> an input already prepared (C x H x W, normalised as the
/// net expects). One image at a time; not thread-safe.
/// </summary>
/// <example>
/// using var predictor = Predictor.Load("runs/vgg11-20261130-120000");
/// foreach (var c in predictor.Predict("cat.jpg").Top(5)) Console.WriteLine($"{c.Name} {c.Probability:P1}");
/// </example>
public sealed class Predictor : IDisposable
{
    private readonly Evaluator _evaluator;
    private readonly ImageRecipe _recipe;

    private Predictor(LoadedNet net)
    {
        Net = net;
        var s = net.Spec;
        _evaluator = new Evaluator(net.Graph, net.Backend, net.Parameters,
            new TaskInfo(net.Segmentation ? TaskKind.Segmentation : TaskKind.Classification, s.Classes!.Value, s.IgnoreLabel, s.ClassNames));
        _recipe = s.Recipe(Input[1], Input[2]);
    }

    /// <summary>The net, its weights and the spec it was built from.</summary>
    public LoadedNet Net { get; }
    public ModelSpec Spec => Net.Spec;
    /// <summary>One image, C x H x W.</summary>
    public Shape Input => Net.Input;
    public bool Segmentation => Net.Segmentation;

    /// <summary>
    /// Loads <paramref name="runFolderOrWeightsFile"/>: a run folder (its final, else latest, weights
    /// and its stored spec), a weights file inside a run, or any weights file (safetensors or a
    /// PyTorch .pth, in the engine's, torchvision's or timm's names) with <paramref name="spec"/>
    /// naming the net. A given spec replaces a run's.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file or folder.</exception>
    /// <exception cref="InvalidDataException">The file does not fit the net (every problem listed) or is unreadable.</exception>
    /// <exception cref="ArgumentException">A weights file outside a run without a spec.</exception>
    public static Predictor Load(string runFolderOrWeightsFile, Device device = default, ModelSpec? spec = null)
    {
        var weights = RunFolder.WeightsFile(runFolderOrWeightsFile);
        spec ??= RunFolder.Of(runFolderOrWeightsFile) is { } run ? ModelSpec.FromRun(run)
            : throw new ArgumentException($"{runFolderOrWeightsFile} is not inside a run folder: give a ModelSpec naming its net");
        return new Predictor(LoadedNet.Load(weights, spec, device.CreateBackend()));
    }

    /// <summary>Reads, crops and normalises an image file (JPEG or PNG) as the net's evaluation does.</summary>
    /// <exception cref="ImageDecodeException">The file is not a readable image.</exception>
    public Tensor<float> Preprocess(string imagePath)
    {
        var image = new float[Input.Numel];
        var decoded = ImageDecoder.Decode(File.ReadAllBytes(imagePath), Input[0], _recipe.DecodeHint);
        _recipe.Render(decoded, null, default, null, image, default);
        return new Tensor<float>(Input, image);
    }

    public Prediction Predict(string imagePath) => Predict(Preprocess(imagePath));

    /// <summary>The prediction for one prepared input of shape <see cref="Input"/> (C x H x W).</summary>
    public Prediction Predict(Tensor<float> image)
    {
        if (image.Shape != Input) throw new ArgumentException($"input of shape {image.Shape}; the net takes {Input}");
        int plane = Segmentation ? Input[1] * Input[2] : 1;
        var (_, logits) = _evaluator.Forward(new Batch(image.Data, new int[plane], 1, new[] { 0 }));
        return new Prediction(logits, Spec.Classes!.Value, Segmentation ? Input[1] : 1, Segmentation ? Input[2] : 1, Spec.ClassName);
    }

    public void Dispose()
    {
        _evaluator.Dispose();
        Net.Dispose();
    }
}
