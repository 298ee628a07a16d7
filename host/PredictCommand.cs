using System.CommandLine;
using System.Globalization;
using Engine.Inference;
using Engine.Data.Codecs;
using Engine.Tensors;
using Engine.Training.Reports;

namespace Host;

/// <summary>`host predict`: classes (top 5) of images, or colour masks for a segmentation net; optionally the raw logits as .npy.</summary>
public static class PredictCommand
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png"];

    public static Command Create()
    {
        var net = new NetArguments();
        var device = new DeviceChoice();
        var inference = new InferenceArguments();
        var weights = new Option<string>("--weights")
        {
            Description = "Weights: a run folder, or a weights file (.safetensors or PyTorch .pth/.pt, in the engine's, torchvision VGG's or timm VoVNet's names; outside a run give --net, the class count comes from the file).",
            Required = true,
        };
        var input = new Argument<string[]>("INPUT") { Description = "Images (JPEG or PNG) or folders of them.", Arity = ArgumentArity.OneOrMore };
        var saveLogits = new Option<string?>("--save-logits") { Description = "Write the logits of all images to this .npy file ([N, K] or [N, K, H, W], float32)." };
        var outDir = new Option<string?>("--out") { Description = "Segmentation: folder for the mask PNGs (default predictions/)." };
        var top = new Option<int?>("--top") { Description = "Classification: classes to list per image (default 5)." };
        var masks = new Option<string?>("--masks")
        {
            Description = "Segmentation: colour (default; an RGB PNG in VOC's colours, or ADE20K's standard 150-colour table, 'other' black, for a run trained on an ADE20K tree) or index (a palette PNG whose pixel values are the class numbers, as VOC's SegmentationClass; read by PIL as class ids).",
        };
        var cmd = new Command("predict", "Classify images (top 5) or segment them (colour or class-index mask PNGs).") { input, weights, saveLogits, outDir, top, masks };
        net.AddTo(cmd);
        device.AddTo(cmd);
        inference.AddTo(cmd);
        cmd.SetAction(r => CommandGuard.Run(() =>
        {
            Ranks.RequireOneProcess("predict");
            var files = r.GetValue(input)!.SelectMany(Images).ToList();
            int k = r.GetValue(top) is int t ? (t >= 1 ? t : throw new UsageException($"--top {t}: must be at least 1")) : 5;
            var logitsPath = r.GetValue(saveLogits);
            if (logitsPath is not null && !logitsPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"--save-logits {logitsPath}: the file name must end in .npy");
            bool indexMasks = r.GetValue(masks)?.ToLowerInvariant() switch
            {
                null or "colour" or "color" => false,
                "index" => true,
                var m => throw new UsageException($"--masks '{m}': expected colour or index"),
            };
            var weightsArg = r.GetValue(weights)!;
            var settings = inference.Apply(r, TrainedModel.ReadSettings(r, net, weightsArg));
            using var predictor = Predictor.Load(RunFolders.WeightsFile(weightsArg), new Device(device.GpuIndex(r)), settings.ToModelSpec(r.GetValue(net.DenseEval)));
            var s = predictor.Spec;
            int classes = s.Classes!.Value, h = predictor.Input[1], w = predictor.Input[2];
            if (indexMasks && predictor.Segmentation && classes > 256)
                throw new UsageException($"--masks index: an 8-bit PNG holds at most 256 classes, the net has {classes}");
            var masksDir = r.GetValue(outDir) ?? "predictions";
            var all = new List<float>();
            int failed = 0;
            foreach (var file in files)
            {
                Prediction prediction;
                try { prediction = predictor.Predict(file); }
                catch (Exception e) when (e is ImageDecodeException or InvalidDataException or IOException)
                {
                    Console.Error.WriteLine($"{file}: cannot read ({e.Message})");
                    failed++;
                    continue;
                }
                all.AddRange(prediction.Logits);
                if (predictor.Segmentation) WriteMask(file, masksDir, prediction, indexMasks, settings.MaskColour());
                else PrintTop(file, prediction, k);
            }
            if (logitsPath is not null)
            {
                int n = files.Count - failed;
                var shape = predictor.Segmentation ? new Shape(n, classes, h, w) : new Shape(n, classes);
                Npy.Write(logitsPath, new Tensor<float>(shape, [.. all]));
                Console.WriteLine($"logits of {n} image(s) written to {logitsPath} ({shape})");
            }
            return failed == 0 ? 0 : 1;
        }));
        return cmd;
    }

    private static List<string> Images(string input)
    {
        if (File.Exists(input)) return [input];
        if (!Directory.Exists(input)) throw new UsageException($"INPUT {input}: no such file or folder");
        var files = Directory.EnumerateFiles(input)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToList();
        return files.Count > 0 ? files : throw new UsageException($"INPUT {input}: the folder holds no .jpg, .jpeg or .png files");
    }

    private static void PrintTop(string file, Prediction prediction, int k)
    {
        Console.WriteLine($"{file}:");
        var best = prediction.Top(k);
        for (int i = 0; i < best.Count; i++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1}. {best[i].Name,-24} {best[i].Probability:P2}"));
    }

    private static void WriteMask(string file, string dir, Prediction prediction, bool index, Func<int, (byte R, byte G, byte B)> colour)
    {
        int h = prediction.Height, w = prediction.Width;
        var mask = prediction.Mask!;
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Path.GetFileNameWithoutExtension(file) + ".mask.png");
        if (index)
        {
            var palette = Enumerable.Range(0, prediction.Classes).Select(colour).Select(c => new Rgb(c.R, c.G, c.B)).ToArray();
            File.WriteAllBytes(path, PngCodec.EncodeIndexed(mask.Select(c => (byte)c).ToArray(), w, h, palette));
        }
        else SegmentationImages.WriteMask(path, mask, h, w, colour);
        Console.WriteLine($"{file}: {(index ? "class-index" : "colour")} mask {w}x{h} written to {path}");
    }
}
