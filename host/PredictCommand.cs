using System.CommandLine;
using System.Globalization;
using Engine.Data;
using Engine.Data.Codecs;
using Engine.Tensors;
using Engine.Training;
using Engine.Training.Metrics;
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
        var weights = new Option<string>("--weights") { Description = "Weights: a .safetensors file or a run folder.", Required = true };
        var input = new Argument<string[]>("INPUT") { Description = "Images (JPEG or PNG) or folders of them.", Arity = ArgumentArity.OneOrMore };
        var saveLogits = new Option<string?>("--save-logits") { Description = "Write the logits of all images to this .npy file ([N, K] or [N, K, H, W], float32)." };
        var outDir = new Option<string?>("--out") { Description = "Segmentation: folder for the mask PNGs (default predictions/)." };
        var top = new Option<int?>("--top") { Description = "Classification: classes to list per image (default 5)." };
        var masks = new Option<string?>("--masks")
        {
            Description = "Segmentation: colour (default; an RGB PNG in VOC's colours) or index (a palette PNG whose pixel values are the class numbers, as VOC's SegmentationClass; read by PIL as class ids).",
        };
        var cmd = new Command("predict", "Classify images (top 5) or segment them (colour or class-index mask PNGs).") { input, weights, saveLogits, outDir, top, masks };
        net.AddTo(cmd);
        device.AddTo(cmd);
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
            using var model = TrainedModel.Load(r, net, r.GetValue(weights)!, device.GpuIndex(r));
            if (indexMasks && model.Segmentation && model.Settings.Classes > 256)
                throw new UsageException($"--masks index: an 8-bit PNG holds at most 256 classes, the net has {model.Settings.Classes}");
            var s = model.Settings;
            using var evaluator = model.Evaluator(new TaskInfo(model.Segmentation ? Engine.Data.TaskKind.Segmentation : Engine.Data.TaskKind.Classification,
                s.Classes, s.IgnoreLabel, s.ClassNames));
            var recipe = DataChoice.Recipe(s, model.Input[1]);
            int c = model.Input[0], h = model.Input[1], w = model.Input[2], plane = h * w;
            var masksDir = r.GetValue(outDir) ?? "predictions";
            var all = new List<float>();
            int failed = 0;
            foreach (var file in files)
            {
                var image = new float[c * plane];
                try
                {
                    var decoded = ImageDecoder.Decode(File.ReadAllBytes(file), c, recipe.DecodeHint);
                    recipe.Render(decoded, null, default, null, image, default);
                }
                catch (Exception e) when (e is ImageDecodeException or InvalidDataException or IOException)
                {
                    Console.Error.WriteLine($"{file}: cannot read ({e.Message})");
                    failed++;
                    continue;
                }
                var labels = new int[model.Segmentation ? plane : 1];
                var (_, logits) = evaluator.Forward(new Batch(image, labels, 1, new[] { 0 }));
                all.AddRange(logits);
                if (model.Segmentation) WriteMask(file, masksDir, logits, s.Classes, h, w, indexMasks);
                else PrintTop(file, logits, k, model);
            }
            if (logitsPath is not null)
            {
                int n = files.Count - failed;
                var shape = model.Segmentation ? new Shape(n, s.Classes, h, w) : new Shape(n, s.Classes);
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

    private static void PrintTop(string file, float[] logits, int k, TrainedModel model)
    {
        double max = logits.Max(), sum = logits.Sum(z => Math.Exp(z - max));
        var best = TopK.Best(logits, k);
        Console.WriteLine($"{file}:");
        for (int i = 0; i < best.Length; i++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {i + 1}. {model.ClassName(best[i].Class),-24} {Math.Exp(best[i].Score - max) / sum:P2}"));
    }

    private static void WriteMask(string file, string dir, float[] logits, int classes, int h, int w, bool index)
    {
        int plane = h * w;
        var mask = new int[plane];
        var scores = new float[classes];
        for (int p = 0; p < plane; p++)
        {
            for (int c = 0; c < classes; c++) scores[c] = logits[c * plane + p];
            mask[p] = TopK.ArgMax(scores);
        }
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Path.GetFileNameWithoutExtension(file) + ".mask.png");
        if (index)
        {
            var palette = Enumerable.Range(0, classes).Select(c => SegmentationImages.Colour(c)).Select(c => new Rgb(c.R, c.G, c.B)).ToArray();
            File.WriteAllBytes(path, PngCodec.EncodeIndexed(mask.Select(c => (byte)c).ToArray(), w, h, palette));
        }
        else SegmentationImages.WriteMask(path, mask, h, w);
        Console.WriteLine($"{file}: {(index ? "class-index" : "colour")} mask {w}x{h} written to {path}");
    }
}
