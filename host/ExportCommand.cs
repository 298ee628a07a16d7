using System.CommandLine;
using System.Globalization;
using Engine.Export.Onnx;
using Engine.Training.Checkpoints;

namespace Host;

/// <summary>`host export`: trained weights as a self-contained ONNX model (opset 18) for ONNX Runtime and other runtimes.</summary>
public static class ExportCommand
{
    public const string DefaultFileName = "model.onnx";

    public static Command Create()
    {
        var net = new NetArguments();
        var weights = new Option<string>("--weights") { Description = "Weights: a .safetensors file or a run folder.", Required = true };
        var format = new Option<string>("--format") { Description = "Output format: onnx (the only one).", DefaultValueFactory = _ => "onnx" };
        var output = new Option<string?>("--out")
        {
            Description = $"The file to write (default: {DefaultFileName} in the run folder, or beside a weights file with the extension .onnx).",
        };
        var cmd = new Command("export",
            "Export trained weights as an ONNX model (opset 18): input \"image\" (N x C x H x W float, N free), outputs \"logits\", " +
            "\"probabilities\" (softmax over the classes) and, for segmentation nets, \"mask\" (N x H x W int64 class numbers). " +
            "Preprocess images as training did (the run's settings); dropout is left out, batch norm uses its running statistics.")
        { weights, format, output };
        net.AddTo(cmd);
        cmd.SetAction(r => CommandGuard.Run(() =>
        {
            var f = r.GetValue(format)!;
            if (!string.Equals(f, "onnx", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"--format {f}: not a known format (known: onnx)");
            var weightsArg = r.GetValue(weights)!;
            using var model = TrainedModel.Load(r, net, weightsArg, gpu: null);
            var path = r.GetValue(output) ?? DefaultPath(weightsArg, model.WeightsFile);
            OnnxGraph onnx;
            try { onnx = OnnxExporter.Build(model.Graph, model.Parameters); }
            catch (OnnxExportException e) { throw new UsageException($"{model.Info.Name} cannot be exported: {e.Message}"); }
            AtomicFile.Write(path, s => OnnxExporter.Write(s, onnx, Metadata(model)));
            Console.WriteLine($"wrote {path} ({model.Info.Name}, {model.Settings.Input}, {model.Settings.Classes} classes, " +
                $"{model.Graph.Parameters.Count:N0} parameters, ONNX opset {OnnxExporter.Opset}, {new FileInfo(path).Length:N0} bytes)");
            return ExitCodes.Success;
        }));
        return cmd;
    }

    /// <summary>
    /// What a deployment needs beside the graph, as the model's metadata: the net, and how an image
    /// becomes the input (the evaluation view of the run's recipe, then (pixel - mean) * scale per channel).
    /// </summary>
    public static Dictionary<string, string> Metadata(TrainedModel model)
    {
        var recipe = DataChoice.Recipe(model.Settings, model.Input[1]);
        var inv = CultureInfo.InvariantCulture;
        var meta = new Dictionary<string, string>
        {
            ["engine.net"] = model.Info.Name,
            ["engine.input"] = model.Settings.Input,
            ["engine.classes"] = model.Settings.Classes.ToString(inv),
            ["engine.recipe"] = recipe.Describe(),
            ["engine.mean"] = string.Join(",", recipe.Mean.ToArray().Select(m => m.ToString("R", inv))),
            ["engine.scale"] = recipe.Scale.ToString("R", inv),
            ["engine.preprocess"] = "RGB pixels 0..255 (one channel for grayscale nets), cropped and resized as the recipe's evaluation view, " +
                "then input = (pixel - mean) * scale per channel (no mean when engine.mean is empty), NCHW",
        };
        if (model.Settings.ClassNames.Count > 0) meta["engine.class_names"] = string.Join("\n", model.Settings.ClassNames);
        return meta;
    }

    private static string DefaultPath(string weightsArg, string weightsFile) =>
        Directory.Exists(weightsArg) ? Path.Combine(weightsArg, DefaultFileName) : Path.ChangeExtension(weightsFile, ".onnx");
}
