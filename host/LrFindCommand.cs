using System.CommandLine;
using System.Globalization;
using Engine.Training;
using Engine.Training.Checkpoints;
using Engine.Training.LrFind;
using Engine.Training.Reports;

namespace Host;

/// <summary>
/// `host lr-find`: the learning-rate range test (Smith 2017; fastai's lr_find). A short run from
/// the net's fresh initialisation with the lr rising exponentially; writes the plot of loss
/// against lr (SVG) and the numbers (CSV) and prints the suggested lr. Net, data, device and
/// optimizer options are `host train`'s.
/// </summary>
public static class LrFindCommand
{
    public const string DefaultOut = "lr-find.svg";

    private const string Description =
        "Learning-rate range test (Smith 2017, fastai's lr_find): trains from a fresh initialisation for --steps steps, " +
        "the lr rising exponentially from --start-lr to --end-lr (lr_i = start*(end/start)^(i/(steps-1)); the batches cycle through " +
        "as many epochs as needed), and stops early once the smoothed loss passes 4x its best. Writes the plot of the loss against " +
        "the lr (log scale) to --out and the numbers (step, lr, loss, smoothed loss) to the same name with .csv. " +
        "Reading the plot: the loss averaged over windows of steps (thick line) is flat at tiny lrs, falls, reaches a minimum and then shoots up; " +
        "a good lr lies where it falls steeply, well before the minimum. Printed and marked: the middle lr of the window whose loss falls " +
        "fastest against log(lr) (least-squares slope; windows of a sixth of the steps, at least 5, the first tenth left out) — the suggestion — " +
        "and a tenth of the lr at the lowest window, a more cautious hint. The stop rule's smoothed loss (exponential average, beta 0.98, debiased) is in the CSV. " +
        "Use it as --lr of `host train` with the same net, data, batch and optimizer (for a cyclical schedule, as the peak). " +
        "The weights are thrown away. Exit codes: 0 done, 1 no suggestion (the loss never fell), 2 bad arguments or input, " +
        "3 device unavailable, 4 a file could not be written.";

    public static Command Create()
    {
        var net = new NetArguments();
        var device = new DeviceChoice();
        var train = new TrainCommand.Options();
        var o = new Options();
        var cmd = new Command("lr-find", Description);
        net.AddTo(cmd);
        device.AddTo(cmd);
        train.AddDataAndOptimizerTo(cmd);
        o.AddTo(cmd);
        cmd.SetAction(r => CommandGuard.Run(() =>
        {
            Ranks.RequireOneProcess("lr-find");
            return Run(r, net, device, train, o);
        }));
        return cmd;
    }

    private sealed class Options
    {
        public Option<double?> StartLr { get; } = new("--start-lr") { Description = "Smallest lr, of the first step (default 1e-7)." };
        public Option<double?> EndLr { get; } = new("--end-lr") { Description = "Largest lr, of the last step (default 10)." };
        public Option<int?> Steps { get; } = new("--steps") { Description = "Training steps, one lr each (default 100); the batches cycle if an epoch has fewer." };
        public Option<string?> Out { get; } = new("--out") { Description = $"The plot, an SVG file (default {DefaultOut} in the current folder); the CSV goes next to it with .csv." };

        public void AddTo(Command c)
        {
            foreach (var opt in new Option[] { StartLr, EndLr, Steps, Out }) c.Options.Add(opt);
        }
    }

    private static int Run(ParseResult r, NetArguments netArgs, DeviceChoice deviceChoice, TrainCommand.Options trainOptions, Options o)
    {
        var gpu = deviceChoice.GpuIndex(r);
        double start = r.GetValue(o.StartLr) ?? 1e-7, end = r.GetValue(o.EndLr) ?? 10;
        int steps = r.GetValue(o.Steps) ?? 100;
        if (!(start > 0) || !double.IsFinite(start)) throw new UsageException($"--start-lr {start}: must be a positive number");
        if (!(end > start) || !double.IsFinite(end)) throw new UsageException($"--end-lr {end}: must be a number above --start-lr {start}");
        if (steps < 2) throw new UsageException($"--steps {steps}: must be at least 2");
        int threads = r.GetValue(trainOptions.Threads) is int t ? (t >= 1 ? t : throw new UsageException($"--threads {t}: must be at least 1")) : Environment.ProcessorCount;
        var svg = r.GetValue(o.Out) ?? DefaultOut;
        if (Directory.Exists(svg)) throw new UsageException($"--out {svg}: is a folder; give the SVG file's name");
        var csv = Path.ChangeExtension(svg, ".csv");

        var (settled, _, _, _) = TrainCommand.Settle(r, netArgs, trainOptions, gpu, announce: false);
        var (info, data, graph, settings) = TrainCommand.Prepare(settled);
        var schedule = new LrRangeSchedule(start, end, steps);

        using var backend = DeviceChoice.Create(gpu);
        using var batches = new LoaderBatches(data.Train, settings.Batch, train: true, settings.Seed, threads);
        var progress = ProgressLine.ForConsole();
        Console.WriteLine(Inv($"lr-find: {info.Name} (input {settings.Input}, width x{settings.Width}), {settings.Optimizer} (momentum {settings.Momentum}, weight decay {settings.WeightDecay}), batch {batches.BatchSize}, backend {backend.Name}"));
        Console.WriteLine($"data: {data.Train.Name}, {batches.BatchesPerEpoch} batches per epoch");
        Console.WriteLine(Inv($"lr from {start:G3} to {end:G3} over {steps} steps, stopping early if the smoothed loss passes {LrRangeRecorder.DivergenceFactor:G}x its best"));
        var test = new LrRangeTest(graph, backend, batches, schedule, settings.Seed)
        {
            Progress = p => progress.Show(() => Inv($"step {p.Step}/{p.Steps}  lr {p.LearningRate:G3}  loss {p.Loss:F4}  smoothed {p.Smoothed:F4}"), force: p.Step == p.Steps),
        };
        var result = test.Run(p => TrainCommand.CreateOptimizer(settings, p));
        progress.Break();

        var dir = Path.GetDirectoryName(Path.GetFullPath(svg));
        if (dir is not null) Directory.CreateDirectory(dir);
        AtomicFile.WriteText(svg, LrFindSvg.Render($"{info.Name}: learning-rate range test ({settings.Optimizer}, batch {batches.BatchSize})", result.Points, result.Suggestion));
        AtomicFile.WriteText(csv, LrRangeRecorder.Csv(result.Points));

        Console.WriteLine(result.StopReason is { } why ? $"stopped early after {result.Points.Count} steps: {why}" : $"ran all {result.Points.Count} steps");
        Console.WriteLine($"plot: {svg}; numbers: {csv}");
        if (result.Suggestion is not { } s)
        {
            Console.Error.WriteLine(result.StopReason is null
                ? "error: no suggestion: the loss (averaged over windows of steps) never fell; try a higher --end-lr or more --steps"
                : "error: no suggestion: the loss diverged before it fell; try more --steps, a smaller --start-lr or another --optimizer or --batch");
            return ExitCodes.Failed;
        }
        Console.WriteLine(Inv($"suggested lr: {s.Steepest:G3}  (steepest descent of the loss over {s.Window} steps, centred on step {s.SteepestIndex + 1})"));
        Console.WriteLine(Inv($"cautious hint: {s.MinimumTenth:G3}  (a tenth of the lr at the lowest {s.Window}-step mean, {s.AtMinimum:G3} at step {s.MinimumIndex + 1})"));
        if (s.StillFalling)
            Console.WriteLine("note: the loss was still falling at the last steps; a higher --end-lr or more --steps shows where it turns");
        return ExitCodes.Success;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
