using System.CommandLine;
using System.Globalization;
using Engine.Data;
using Engine.Graph;
using Engine.Data.Datasets;
using Engine.Nets;
using Engine.Tensors;
using Engine.Training;
using Engine.Training.Checkpoints;
using Engine.Training.Optimizers;
using Engine.Training.Schedules;

namespace Host;

/// <summary>
/// `host train`: trains a net from the registry on a dataset folder or the embedded synthetic
/// set, on the CPU or a GPU, with the seeds' settings unless told otherwise; writes a run folder
/// (train.log, steps.csv, metrics.csv, curves.svg, checkpoints, weights.safetensors).
/// </summary>
public static class TrainCommand
{
    public const string DefaultNet = "vovnet57";

    public static Command Create()
    {
        var net = new NetArguments();
        var device = new DeviceChoice();
        var o = new Options();
        var cmd = new Command("train", "Train a network. With no arguments: vovnet57 on the embedded synthetic dataset, small and fast on the CPU. " + ExitCodes.Help);
        net.AddTo(cmd);
        device.AddTo(cmd);
        o.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var group = Ranks.Join(r.GetValue(o.CollectiveTimeout) ?? Ranks.DefaultTimeoutSeconds);
            return Ranks.Run(group, () => CommandGuard.Run(() => Run(r, net, device, o, group)));
        });
        return cmd;
    }

    internal sealed class Options
    {
        public Option<string?> Data { get; } = new("--data") { Description = "Dataset folder: class sub-folders (ImageNet style) or a PASCAL VOC tree. Default: the embedded synthetic set." };
        public Option<string?> ValData { get; } = new("--val-data") { Description = "Separate validation folder (default: a split of --data)." };
        public Option<double?> ValFraction { get; } = new("--val-fraction") { Description = "Class-folder data: fraction of each class held out for validation (default 0.1)." };
        public Option<string?> Boundary { get; } = new("--boundary") { Description = "VOC: the boundary label 255 as a class of its own (class, the SegNet seed's 22 classes) or ignored (ignore)." };
        public Option<string?> VocSplit { get; } = new("--voc-split") { Description = "VOC: which images train and validate: lists (ImageSets/Segmentation/train.txt and val.txt), seed (the SegNet seed's first 2,000 and next 500 masks by file name; 4:1 for smaller trees) or auto (default: lists when both exist, else seed)." };
        public Option<string?> AdeOther { get; } = new("--ade-other") { Description = "ADE20K: label 0 (pixels of none of the 150 classes) as a class of its own (class, default: the seed's 151 classes) or ignored (ignore: 150 classes, labels 1..150 become 0..149)." };
        public Option<string?> Scale { get; } = new("--scale") { Description = "VGG nets: training scale S (the shorter side is rescaled to S before the random crop) or MIN:MAX for scale jitter, S drawn per image (default 256:512 at 224 input, in proportion otherwise, e.g. 37:73 at 32); evaluation rescales to the middle of the range and takes the centre crop." };
        public Option<string?> Flip { get; } = new("--flip") { Description = "on or off: random left-right mirroring of training images (off where a mirror changes the class: digits, letters, signs). Default: on for the vgg and vovnet nets with --recipe paper, off with --recipe data and for the other nets." };
        public Option<int?> Epochs { get; } = new("--epochs") { Description = "Epochs to train (default per net)." };
        public Option<int?> EpochsMultiple { get; } = new("--epochs-multiple") { Description = "Train K times the epochs otherwise chosen (seed 004's 1x/3x/6x schedules); with --schedule warmup:before-end=... the low-rate phases keep their length." };
        public Option<double?> TrainFraction { get; } = new("--train-fraction") { Description = "Train on this share of the training set, e.g. 0.1 (seed 004's 1/3, 1/10, 1/30): the same examples for the same --seed, each class of a class-folder set keeping its share." };
        public Option<int?> Batch { get; } = new("--batch") { Description = "Mini-batch size (default per net); under mpirun each rank's share, the global batch being ranks x --batch." };
        public Option<double?> Lr { get; } = new("--lr") { Description = "Learning rate; the peak for cyclical schedules (default per net)." };
        public Option<string?> Optimizer { get; } = new("--optimizer") { Description = "sgd (classic momentum v = m*v + g), sgd-unit (CNTK's unit-gain v = m*v + (1-m)*g) or adam." };
        public Option<double?> Momentum { get; } = new("--momentum") { Description = "SGD momentum, Adam's beta1 (default 0.9)." };
        public Option<double?> WeightDecay { get; } = new("--weight-decay") { Description = "L2 weight decay (default per net)." };
        public Option<string?> Schedule { get; } = new("--schedule") { Description = "Learning-rate schedule: " + ScheduleSpec.Help };
        public Option<string?> Out { get; } = new("--out") { Description = "Run folder (default runs/<net>-<timestamp>)." };
        public Option<bool> Resume { get; } = new("--resume") { Description = "Continue the run in --out (default: the latest run of the net) from its checkpoint, exactly." };
        public Option<string?> InitFrom { get; } = new("--init-from") { Description = "Start from a weights file (.safetensors, or PyTorch .pth/.pt; the engine's, torchvision VGG's or timm VoVNet's names): every tensor matching by name and shape is loaded, the rest is listed in the log and keeps its fresh initialisation (e.g. a head of another class count, or the VGG paper's deep nets started from net A's layers)." };
        public Option<string?> Freeze { get; } = new("--freeze") { Description = "backbone: hold the net's backbone (the vovnet57 nets' stem and stages, e.g. under vovnet57-seg's JPU and decoder) fixed as --init-from loaded it: no gradients and no optimizer state for it, no weight decay, its batch norm on its running statistics; a smaller memory plan (host info --freeze backbone). none (default): every layer trains. Stored in the run: --resume keeps it and refuses the other value. Without --init-from it warns, since a random backbone then stays random. Nets without a backbone (vgg, segnet, fcn) refuse it." };
        public Option<bool> StrictInit { get; } = new("--strict-init") { Description = "With --init-from: any tensor of the net or the file that does not match is an error (a head of another class count is still replaced)." };
        public Option<string?> Normalize { get; } = new("--normalize") { Description = "Input normalisation, stored in the run: imagenet ((x/255 - mean)/std with torchvision's ImageNet values, for torchvision/timm weights), none (x/255) or MEAN/STD in 0..1 units, e.g. 0.5,0.5,0.5/0.25,0.25,0.25 (default: the net's recipe: VGG 0..255 minus the mean RGB, the others x/255 or the seed's)." };
        public Option<ulong?> Seed { get; } = new("--seed") { Description = "Seed of init, shuffling, augmentation and dropout (default 1)." };
        public Option<long?> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "Write a checkpoint every N steps (default 500; 0: only at epoch ends)." };
        public Option<int?> Threads { get; } = new("--threads") { Description = "Data-loading threads (default: the core count). The CPU ops use every core the runtime reports; DOTNET_PROCESSOR_COUNT=N limits them." };
        public Option<int?> Examples { get; } = new("--examples") { Description = "Synthetic data: training examples (validation gets a fifth as many)." };
        public Option<long?> MaxSteps { get; } = new("--max-steps") { Description = "Stop (with a checkpoint, resumable) after this many steps in total." };
        public Option<double?> CollectiveTimeout { get; } = new("--collective-timeout") { Description = "Under mpirun: seconds a rank waits for the others at a collective before every rank stops, naming the rank that did not arrive (default 300)." };
        public PrecisionChoice Precision { get; } = new("A run stores its precision and --resume keeps it (another --precision is refused there).");
        public LayoutChoice Layout { get; } = new("A run stores its layout and --resume keeps it (another --layout is refused there).");
        public Option<string?> CudaGraph { get; } = new("--cuda-graph") { Description = "on or off: with --gpu, capture the whole training step (forward, backward, update, metrics) as a CUDA graph after two warm-up steps and replay it with one launch per step (default on; the CPU runs steps as they come). A step that cannot be captured runs eagerly, the reason in the log." };
        public Option<string?> Recipe { get; } = new("--recipe") { Description = "Defaults for what is not given: data (the default with --data: batch, lr, a schedule in steps and the length fitted to the dataset's size, and mild augmentation, said in the run's first lines) or paper (the seed's settings per net, as in SPEC.md). Explicit flags always win." };

        public void AddTo(Command c)
        {
            foreach (var opt in new Option[] { Data, ValData, ValFraction, Boundary, VocSplit, AdeOther, Scale, Flip, Epochs, EpochsMultiple, TrainFraction, Batch, Lr, Optimizer, Momentum, WeightDecay, Schedule,
                         Out, Resume, InitFrom, Freeze, StrictInit, Normalize, Seed, CheckpointEvery, Threads, Examples, MaxSteps, Recipe, CollectiveTimeout, CudaGraph })
                c.Options.Add(opt);
            Precision.AddTo(c);
            Layout.AddTo(c);
        }

        /// <summary>The options `host lr-find` shares: data, batch, optimizer, seed, loading threads, synthetic examples.</summary>
        public void AddDataAndOptimizerTo(Command c)
        {
            foreach (var opt in new Option[] { Data, ValFraction, Boundary, VocSplit, AdeOther, Scale, Flip, Batch, Optimizer, Momentum, WeightDecay, Seed, Threads, Examples, Normalize })
                c.Options.Add(opt);
        }
    }

    private static int Run(ParseResult r, NetArguments netArgs, DeviceChoice deviceChoice, Options o, Engine.Distributed.ICollectives group)
    {
        var gpu = deviceChoice.GpuIndex(r) is int g ? g + group.LocalRank : (int?)null;
        var precision = o.Precision.Given(r);
        var layout = o.Layout.Given(r);
        int threads = Positive(r.GetValue(o.Threads), "--threads") ?? Environment.ProcessorCount;
        long checkpointEvery = r.GetValue(o.CheckpointEvery) is long ce ? (ce >= 0 ? ce : throw new UsageException($"--checkpoint-every {ce}: must be 0 or more")) : 500;
        long? maxSteps = r.GetValue(o.MaxSteps) is long ms ? (ms >= 1 ? ms : throw new UsageException($"--max-steps {ms}: must be at least 1")) : null;
        bool cudaGraph = r.GetValue(o.CudaGraph)?.ToLowerInvariant() switch
        {
            null or "on" => gpu is not null, "off" => false,
            var v => throw new UsageException($"--cuda-graph '{v}': expected on or off"),
        };
        var initFrom = r.GetValue(o.InitFrom);
        if (initFrom is not null && !File.Exists(initFrom)) throw new UsageException($"--init-from {initFrom}: no such file");

        var (settled, runDir, resume, notes) = Settle(r, netArgs, o, gpu);
        if (resume && initFrom is not null) throw new UsageException("--init-from starts a new run; it cannot be combined with --resume");
        if (r.GetValue(o.StrictInit) && initFrom is null) throw new UsageException("--strict-init applies to --init-from FILE, which is not given");
        var (info, data, graph, settings) = Prepare(settled, group);
        if (settings.FreezeBackbone && !graph.HasBackbone) throw new UsageException($"--freeze backbone: {new Engine.Graph.NoBackboneException(info.Name).Message}");

        using var backend = resume
            ? DeviceChoice.Create(gpu, Precisions.Parse(settings.Precision), $"--resume: {runDir} was trained in",
                Layouts.Parse(settings.Layout), $"--resume: {runDir} was trained in")
            : DeviceChoice.Create(gpu, precision, layout: layout);
        settings = settings with { Precision = backend.Precision.Name(), Layout = backend.Layout.Name() };
        using var deviceGroup = Ranks.JoinGpus(backend, group, r.GetValue(o.CollectiveTimeout) ?? Ranks.DefaultTimeoutSeconds);
        using var train = new LoaderBatches(data.Train, settings.Batch, train: true, settings.Seed, threads, group.Rank, group.Size, backend.Layout);
        using var val = data.Validation is null ? null : new LoaderBatches(data.Validation, settings.Batch, train: false, settings.Seed, threads, layout: backend.Layout);
        var progress = ProgressLine.ForConsole();
        var messages = new ProgressAwareWriter(Console.Out, progress);
        messages.WriteLine($"data: {data.Describe()}");
        if (backend.Precision != Engine.Graph.Precision.Fp32) messages.WriteLine($"precision: {settings.Precision} ({backend.Name})");
        if (backend.Layout != Engine.Tensors.Layout.Nchw) messages.WriteLine($"layout: {settings.Layout} ({backend.Name})");
        CheckSchedule(settings, train.BatchesPerEpoch);
        var trainer = new Trainer(graph, backend, train, val, new TaskInfo(data.Train.Task, data.Train.Classes, data.Train.IgnoreLabel, data.Train.ClassNames),
            new TrainerOptions
            {
                RunDir = runDir, NetName = info.Name, Epochs = settings.Epochs, Seed = settings.Seed, LearningRate = settings.LearningRate,
                Schedule = settings.Schedule, CheckpointEvery = checkpointEvery, CudaGraph = cudaGraph, Resume = resume, InitFrom = initFrom, StrictInit = r.GetValue(o.StrictInit), StopAfterSteps = maxSteps,
                Config = settings.ToJson(), Notes = notes, FreezeBackbone = settings.FreezeBackbone, CreateOptimizer = p => CreateOptimizer(settings, p),
                Group = group, DeviceGroup = deviceGroup, Agreement = [.. settings.ToJson().Select(kv => (kv.Key, kv.Value?.ToJsonString() ?? "null")),
                    ("training data", $"{data.Train.Name}, {data.Train.Count} examples"), ("--init-from", initFrom ?? "none")],
            })
        { Messages = messages, Progress = group.Rank == 0 ? progress.Report : null };

        using var interrupts = new Interrupts(Console.Error);
        try
        {
            var outcome = trainer.Run(interrupts.Token);
            progress.Break();
            if (outcome.Status == TrainStatus.Completed) return 0;
            messages.WriteLine($"continue with --resume --out {outcome.RunDir}");
            return outcome.Status == TrainStatus.StepLimit ? 0 : ExitCodes.Interrupted;
        }
        catch (TrainingDivergedException e)
        {
            progress.Break();
            Console.Error.WriteLine($"error: {e.Message} — try a lower --lr");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            progress.Break();
            throw;
        }
        catch (RunExistsException e)
        {
            throw new UsageException($"{e.Message}; resume it with --resume or choose another --out");
        }
    }

    /// <summary>The net, the data and the graph of the settings; the settings completed with the data's class names and ignore label.</summary>
    /// <param name="group">The data-parallel ranks (SyncBN's statistics span them).</param>
    internal static (NetInfo Info, DataSplits Data, Engine.Graph.Graph Graph, TrainSettings Settings) Prepare(TrainSettings settings, Engine.Distributed.ICollectives? group = null)
    {
        var info = NetRegistry.Find(settings.Net);
        var input = NetArguments.ParseInput(settings.Input)!.Value;
        var data = DataChoice.Open(settings, info.Segmentation, input);
        if (data.Train.Classes != settings.Classes)
            throw new UsageException($"--classes {settings.Classes}: the data has {data.Train.Classes} classes ({data.Train.Name})");
        settings = settings with
        {
            ClassNames = [.. data.Train.ClassNames], IgnoreLabel = info.Segmentation ? data.Train.IgnoreLabel : -1,
            AdeData = settings.Data is { } dir && AdeSegmentationDataset.IsTree(dir),
        };
        var graph = NetRegistry.Build(info.Name, new NetOptions
        {
            Input = input, Classes = settings.Classes, Norm = NetArguments.ParseNorm(settings.Norm), Width = settings.Width,
            IgnoreLabel = info.Segmentation ? data.Train.IgnoreLabel : -1, NormGroup = group, AdaptivePool = settings.AdaptivePool,
            Loss = NetArguments.ParseLoss(settings.Loss),
        });
        return (info, data, graph, settings);
    }

    /// <summary>
    /// The run's settings: from the checkpoint when resuming, else the options over the net's defaults.
    /// <paramref name="announce"/>: print which defaults apply (train does; lr-find says it its own way).
    /// </summary>
    /// <returns>The settings, the run folder, whether it resumes, and lines for the run's log (the data recipe's choices).</returns>
    internal static (TrainSettings Settings, string RunDir, bool Resume, IReadOnlyList<string> Notes) Settle(ParseResult r, NetArguments netArgs, Options o, int? gpu, bool announce = true)
    {
        var netName = r.GetValue(netArgs.Net) ?? DefaultNet;
        var info = FindNet(netName);
        if (r.GetValue(o.Resume))
        {
            var dir = r.GetValue(o.Out) ?? RunFolders.Latest(info.Name)
                ?? throw new UsageException($"--resume: no run of {info.Name} with a checkpoint under {RunFolders.Root}/; name the run folder with --out");
            if (!Checkpoint.Exists(dir)) throw new UsageException($"--resume: {dir} holds no checkpoint ({Checkpoint.RecordName})");
            var saved = TrainSettings.FromJson(Checkpoint.ReadState(dir).Config, Path.Combine(dir, Checkpoint.RecordName));
            if (r.GetValue(netArgs.Net) is { } n && !string.Equals(FindNet(n).Name, saved.Net, StringComparison.Ordinal))
                throw new UsageException($"--resume: {dir} is a run of {saved.Net}, not {n}");
            if (o.Precision.Given(r) is { } p && p.Name() != saved.Precision)
                throw new UsageException($"--precision {p.Name()}: {dir} was trained in {saved.Precision}, and a resumed run continues exactly as it was; leave --precision out, or start a new run");
            if (o.Layout.Given(r) is { } l && l.Name() != saved.Layout)
                throw new UsageException($"--layout {l.Name()}: {dir} was trained in {saved.Layout}, and a resumed run continues exactly as it was; leave --layout out, or start a new run");
            if (ParseFreeze(r.GetValue(o.Freeze)) is { } freeze && freeze != saved.FreezeBackbone)
                throw new UsageException($"--freeze {TrainSettings.FreezeName(freeze)}: {dir} was trained with --freeze {TrainSettings.FreezeName(saved.FreezeBackbone)}, which a resumed run keeps (start a new run with --init-from {Path.Combine(dir, Trainer.WeightsFile)} to change it)");
            int epochs = Positive(r.GetValue(o.Epochs), "--epochs") ?? saved.Epochs;
            Console.WriteLine($"resuming {dir} with its own settings{(epochs != saved.Epochs ? $", now for {epochs} epochs" : "")}");
            return (saved with { Epochs = epochs }, dir, true, []);
        }

        if (r.GetValue(netArgs.DenseEval)) throw new UsageException("--dense-eval is a way of evaluating (host eval / predict); training uses the FC form");
        bool segmentation = info.Segmentation;
        var data = r.GetValue(o.Data);
        var recipe = r.GetValue(o.Recipe)?.ToLowerInvariant();
        if (recipe is not (null or "data" or "paper")) throw new UsageException($"--recipe '{recipe}': expected data or paper");
        if (recipe == "data" && data is null) throw new UsageException("--recipe data fits the size of a dataset folder; give it with --data DIR");
        recipe ??= data is null ? null : "data";
        bool quick = data is null && gpu is null && recipe is null;
        var q = TrainDefaults.Quick(info.Name, segmentation);
        var d = quick ? q.Settings : TrainDefaults.For(info.Name);
        var net = netArgs.Options(r);
        var input = net.Input ?? (quick ? new Shape(3, q.Size, q.Size) : info.DefaultInput);
        double width = r.GetValue(netArgs.Width) is null && quick ? q.Width : net.Width;
        int examples = Positive(r.GetValue(o.Examples), "--examples") ?? (quick ? q.TrainExamples : 5000);
        int classes = net.Classes ?? (data is null ? SyntheticClasses(segmentation) : 0);

        var optimizer = (r.GetValue(o.Optimizer) ?? d.Optimizer).ToLowerInvariant();
        if (optimizer is not ("sgd" or "sgd-unit" or "adam")) throw new UsageException($"--optimizer '{optimizer}': expected sgd, sgd-unit or adam");
        double lr = r.GetValue(o.Lr) ?? d.LearningRate;
        if (!(lr > 0) || !double.IsFinite(lr)) throw new UsageException($"--lr {lr}: must be a positive number");
        double momentum = r.GetValue(o.Momentum) ?? d.Momentum;
        if (!(momentum >= 0 && momentum < 1)) throw new UsageException($"--momentum {momentum}: must be in [0, 1)");
        double wd = r.GetValue(o.WeightDecay) ?? d.WeightDecay;
        if (!(wd >= 0) || !double.IsFinite(wd)) throw new UsageException($"--weight-decay {wd}: must be 0 or more");
        double valFraction = r.GetValue(o.ValFraction) ?? 0.1;
        if (!(valFraction > 0 && valFraction < 1)) throw new UsageException($"--val-fraction {valFraction}: must be between 0 and 1");
        var boundary = r.GetValue(o.Boundary)?.ToLowerInvariant() ?? (classes is 22 or 0 ? "class" : "ignore");
        if (boundary is not ("class" or "ignore")) throw new UsageException($"--boundary '{boundary}': expected class or ignore");
        var vocSplit = r.GetValue(o.VocSplit)?.ToLowerInvariant() ?? "auto";
        if (vocSplit is not ("auto" or "lists" or "seed")) throw new UsageException($"--voc-split '{vocSplit}': expected auto, lists or seed");
        var adeOther = r.GetValue(o.AdeOther)?.ToLowerInvariant() ?? "class";
        if (adeOther is not ("class" or "ignore")) throw new UsageException($"--ade-other '{adeOther}': expected class or ignore");

        var vggScale = r.GetValue(o.Scale);
        if (vggScale is not null)
        {
            if (DataChoice.RecipeName(info.Name) != "vgg") throw new UsageException($"--scale {vggScale}: only the VGG nets' augmentation has a training scale, not {info.Name}'s");
            DataChoice.ParseScale(vggScale, input[1]);
        }
        bool? flip = r.GetValue(o.Flip)?.ToLowerInvariant() switch
        {
            null => null, "on" => true, "off" => false,
            var f => throw new UsageException($"--flip '{f}': expected on or off"),
        };
        var settings = new TrainSettings
        {
            Net = info.Name, Input = input.ToString(), Classes = classes, Norm = r.GetValue(netArgs.Norm)?.ToLowerInvariant(), Width = width,
            Loss = r.GetValue(netArgs.Loss)?.ToLowerInvariant(),
            Data = data, ValidationData = r.GetValue(o.ValData), ValidationFraction = valFraction, BoundaryAsClass = boundary == "class", VggScale = vggScale, Flip = flip,
            VocSplit = vocSplit, AdeOtherAsClass = adeOther == "class", TrainFraction = TrainFractionOf(r.GetValue(o.TrainFraction)),
            SyntheticTrain = examples, SyntheticValidation = Math.Max(1, quick ? q.ValidationExamples * examples / q.TrainExamples : examples / 5),
            Optimizer = optimizer, LearningRate = lr, Momentum = momentum, WeightDecay = wd,
            Schedule = r.GetValue(o.Schedule) ?? d.Schedule,
            Batch = Positive(r.GetValue(o.Batch), "--batch") ?? d.Batch,
            Epochs = Positive(r.GetValue(o.Epochs), "--epochs") ?? d.Epochs,
            Seed = r.GetValue(o.Seed) ?? 1,
            AdaptivePool = r.GetValue(netArgs.AdaptivePool), Normalize = InferenceArguments.CheckNormalize(r.GetValue(o.Normalize)),
            FreezeBackbone = ParseFreeze(r.GetValue(o.Freeze)) ?? false,
        };
        string[]? recipeLines = null;
        if (recipe == "data")
        {
            var train = DataChoice.Open(settings, segmentation, input).Train;
            var given = new GivenSettings(r.GetValue(o.Optimizer), r.GetValue(o.Lr), r.GetValue(o.Batch), r.GetValue(o.Epochs), r.GetValue(o.Schedule));
            var choice = DataRecipe.Choose(info.Name, train.Count, segmentation, given);
            var augmentation = DataAugmentation.Choose(info.Name, input[1], train.Count, vggScale, flip);
            (d, recipeLines) = (choice.Settings, [choice.Line, augmentation.Line]);
            settings = Fitted(settings, d, r, o) with
            {
                Classes = settings.Classes == 0 ? train.Classes : settings.Classes, VggScale = augmentation.VggScale, Flip = augmentation.Flip,
            };
        }
        if (data is not null && settings.Classes == 0) settings = settings with { Classes = ClassesOf(settings, segmentation, input) };
        if (Positive(r.GetValue(o.EpochsMultiple), "--epochs-multiple") is { } multiple) settings = settings with { Epochs = settings.Epochs * multiple };
        CheckSchedule(settings, stepsPerEpoch: 0);

        if (recipeLines is not null) return (settings, r.GetValue(o.Out) ?? RunFolders.NewRun(info.Name), false, recipeLines);
        if (announce) Console.WriteLine(quick
            ? $"quick CPU run on the embedded synthetic dataset: input {settings.Input}, width x{width.ToString(CultureInfo.InvariantCulture)}, {settings.Epochs} epochs " +
              $"(with --data DIR the defaults fit the data's size; with --gpu N or --recipe paper they are the seed's: {TrainDefaults.For(info.Name).Source})"
            : $"defaults: {d.Source}");
        return (settings, r.GetValue(o.Out) ?? RunFolders.NewRun(info.Name), false, []);
    }

    /// <summary>--freeze: backbone (true), none (false), or not given (null).</summary>
    internal static bool? ParseFreeze(string? text) => text?.ToLowerInvariant() switch
    {
        null => null, "backbone" => true, "none" => false,
        _ => throw new UsageException($"--freeze '{text}': expected backbone or none"),
    };

    /// <summary>The schedule text against the run's length (<paramref name="stepsPerEpoch"/> 0: not known yet, the text alone).</summary>
    private static void CheckSchedule(TrainSettings settings, long stepsPerEpoch)
    {
        try { ScheduleSpec.Parse(settings.Schedule, new ScheduleContext(settings.LearningRate, Math.Max(1, stepsPerEpoch), stepsPerEpoch * settings.Epochs)); }
        catch (FormatException e) { throw new UsageException($"--schedule: {e.Message}"); }
    }

    private static double TrainFractionOf(double? given) => given switch
    {
        null => 1,
        > 0 and <= 1 => given.Value,
        _ => throw new UsageException($"--train-fraction {given}: must be in (0, 1], e.g. 0.1 for a tenth of the training set"),
    };

    /// <summary>The recipe's defaults under what the command line gives (already checked).</summary>
    private static TrainSettings Fitted(TrainSettings s, TrainDefaults d, ParseResult r, Options o) => s with
    {
        Optimizer = (r.GetValue(o.Optimizer) ?? d.Optimizer).ToLowerInvariant(), LearningRate = r.GetValue(o.Lr) ?? d.LearningRate,
        Momentum = r.GetValue(o.Momentum) ?? d.Momentum, WeightDecay = r.GetValue(o.WeightDecay) ?? d.WeightDecay,
        Schedule = r.GetValue(o.Schedule) ?? d.Schedule, Batch = r.GetValue(o.Batch) ?? d.Batch, Epochs = r.GetValue(o.Epochs) ?? d.Epochs,
    };

    /// <summary>A net by its --net name; an unknown name is a usage error listing the known ones.</summary>
    internal static NetInfo FindNet(string name)
    {
        try { return NetRegistry.Find(name); }
        catch (KeyNotFoundException) { throw new UsageException($"--net '{name}': unknown net; known nets: {NetRegistry.KnownNames}"); }
    }

    private static int SyntheticClasses(bool segmentation) =>
        segmentation ? new Engine.Data.Datasets.SyntheticSegmentationDataset(1).Classes : new Engine.Data.Datasets.SyntheticShapesDataset(1).Classes;

    private static int ClassesOf(TrainSettings s, bool segmentation, Shape input) => DataChoice.Open(s, segmentation, input).Train.Classes;

    internal static Optimizer CreateOptimizer(TrainSettings s, Engine.Graph.ParameterBuffers p) => s.Optimizer switch
    {
        "adam" => new Adam(p, beta1: s.Momentum, weightDecay: s.WeightDecay),
        "sgd-unit" => new Sgd(p, s.Momentum, s.WeightDecay, unitGain: true),
        _ => new Sgd(p, s.Momentum, s.WeightDecay, unitGain: false),
    };

    private static int? Positive(int? v, string option) => v is int n && n < 1 ? throw new UsageException($"{option} {n}: must be at least 1") : v;
}

/// <summary>Console output that first ends an in-place progress line.</summary>
internal sealed class ProgressAwareWriter(TextWriter inner, ProgressLine progress) : TextWriter
{
    public override System.Text.Encoding Encoding => inner.Encoding;
    public override void WriteLine(string? value)
    {
        progress.Break();
        inner.WriteLine(value);
    }
    public override void Write(char value) => inner.Write(value);
}
