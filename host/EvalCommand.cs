using System.CommandLine;
using System.Globalization;
using Engine.Data;
using Engine.Graph;
using Engine.Data.Datasets;
using Engine.Nets;
using Engine.Ops;
using Engine.Training.Metrics;
using Engine.Training;

namespace Host;

/// <summary>`host eval`: top-1/top-5 error (classification) or pixel accuracy and mIoU (segmentation) of trained weights.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var net = new NetArguments();
        var device = new DeviceChoice();
        var inference = new InferenceArguments();
        var precision = new PrecisionChoice("Evaluation chooses its own, whatever the run trained in.");
        var layout = new LayoutChoice("Evaluation chooses its own, whatever the run trained in.");
        var weights = new Option<string>("--weights") { Description = "Weights: a .safetensors file or a run folder.", Required = true };
        var data = new Option<string?>("--data") { Description = "Data to evaluate: a class-folder tree (every image) or a VOC tree (its validation split). Default: the run's validation split." };
        var batch = new Option<int?>("--batch") { Description = "Images per forward pass (default 32)." };
        var threads = new Option<int?>("--threads") { Description = "Data-loading threads (default: the core count)." };
        var flip = new Option<bool>("--flip") { Description = "Average the scores of each image and its mirror image (VGG's test protocol; on with --dense-eval)." };
        var boundary = new Option<string?>("--boundary") { Description = "VOC data: the boundary label 255 as a class of its own (class) or ignored (ignore). Default: as the run was trained." };
        var cmd = new Command("eval", "Evaluate trained weights: top-1/top-5 error, or pixel accuracy and mIoU.") { weights, data, batch, threads, flip, boundary };
        net.AddTo(cmd);
        device.AddTo(cmd);
        inference.AddTo(cmd);
        precision.AddTo(cmd);
        layout.AddTo(cmd);
        cmd.SetAction(r => CommandGuard.Run(() =>
        {
            Ranks.RequireOneProcess("eval");
            int b = r.GetValue(batch) is int n ? (n >= 1 ? n : throw new UsageException($"--batch {n}: must be at least 1")) : 32;
            int t = r.GetValue(threads) is int th ? (th >= 1 ? th : throw new UsageException($"--threads {th}: must be at least 1")) : Environment.ProcessorCount;
            var weightsArg = r.GetValue(weights)!;
            RunFolders.WeightsFile(weightsArg);
            var settings = inference.Apply(r, LabelConvention.WithBoundary(TrainedModel.ReadSettings(r, net, weightsArg), r.GetValue(boundary)));
            bool segmentation = NetRegistry.Find(settings.Net).Segmentation;
            var dataset = Dataset(settings, segmentation, NetArguments.ParseInput(settings.Input)!.Value, r.GetValue(data));
            using var model = TrainedModel.Load(segmentation ? settings with { IgnoreLabel = dataset.IgnoreLabel } : settings, weightsArg,
                device.GpuIndex(r), r.GetValue(net.DenseEval), precision.Given(r), layout.Given(r));
            LabelConvention.CheckClasses(dataset, settings, weightsArg, r.GetValue(data));
            if (LabelConvention.AdaptNote(dataset, settings, weightsArg) is { } note) Console.WriteLine(note);
            var task = new TaskInfo(dataset.Task, dataset.Classes, dataset.IgnoreLabel, dataset.ClassNames);
            using var source = new LoaderBatches(dataset, b, train: false, model.Settings.Seed, t, layout: model.Backend.Layout);
            int skipped = 0;
            source.Log = m => { Interlocked.Increment(ref skipped); Console.Error.WriteLine(m); };
            bool averageFlip = r.GetValue(flip) || r.GetValue(net.DenseEval);
            using var evaluator = model.Evaluator(task, averageFlip);
            Console.WriteLine($"evaluating {model.WeightsFile} ({model.Info.Name}, {model.Settings.Input}{(r.GetValue(net.DenseEval) ? ", dense evaluation" : "")}" +
                $"{(averageFlip ? ", scores averaged with the mirror image" : "")}, {model.Backend.Precision.Name()}{(model.Backend.Layout == Engine.Tensors.Layout.Nhwc ? ", nhwc" : "")}) on {dataset.Name}: {dataset.Count} examples");
            MetricSummary s;
            try { s = evaluator.Run(source); }
            catch (LabelOutOfRangeException e) { throw LabelConvention.OutOfRange(e, dataset, settings, weightsArg, r.GetValue(data)); }
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"loss {s.Loss:F4}"));
            if (s.Top1Error is double t1)
                Console.WriteLine(string.Create(inv, $"top-1 error {t1:P2} (accuracy {1 - t1:P2}), top-5 error {s.Top5Error:P2}"));
            if (s.PixelAccuracy is double pa)
            {
                Console.WriteLine(string.Create(inv, $"pixel accuracy {pa:P2}, mIoU {s.MeanIoU:P2}"));
                for (int c = 0; c < s.ClassIoU!.Length; c++)
                    if (!double.IsNaN(s.ClassIoU[c])) Console.WriteLine(string.Create(inv, $"  IoU {task.ClassName(c),-16} {s.ClassIoU[c]:P2}"));
            }
            if (skipped > 0) Console.WriteLine($"{skipped} unreadable example(s) skipped");
            return 0;
        }));
        return cmd;
    }

    private static IDataset Dataset(TrainSettings s, bool segmentation, Engine.Tensors.Shape input, string? data)
    {
        if (data is null)
        {
            // The run's own validation split (or, for weights outside a run, the synthetic one).
            var splits = DataChoice.Open(s with { SyntheticTrain = Math.Max(1, s.SyntheticTrain), SyntheticValidation = s.SyntheticValidation > 0 ? s.SyntheticValidation : 256 },
                segmentation, input);
            return splits.Validation ?? splits.Train;
        }
        if (!Directory.Exists(data)) throw new UsageException($"--data {data}: no such folder");
        if (segmentation)
            return DataChoice.Open(s with { Data = data, ValidationData = null }, true, input).Validation
                ?? throw new UsageException($"--data {data}: no validation examples to evaluate");
        try
        {
            return ImageFolderDataset.Scan(data, DataChoice.Recipe(s, input[1]), input[0],
                s.ClassNames.Count > 0 ? s.ClassNames : null);
        }
        catch (DatasetException e) { throw new UsageException($"--data {data}: {e.Message}"); }
    }
}
