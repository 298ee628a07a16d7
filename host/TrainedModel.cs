using System.CommandLine;
using Engine.Inference;
using Engine.Nets;
using Engine.Weights;
using Engine.Training;
using Engine.Training.Checkpoints;

namespace Host;

/// <summary>
/// A trained net ready for evaluation: its settings (from the run folder the weights belong to,
/// else from the command line and the file itself) and the net loaded onto a backend.
/// </summary>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(TrainSettings settings, LoadedNet net) { Settings = settings; Net = net; }

    public TrainSettings Settings { get; }
    public LoadedNet Net { get; }
    public NetInfo Info => Net.Info;
    public Engine.Tensors.Shape Input => Net.Input;
    public Engine.Graph.Graph Graph => Net.Graph;
    public Engine.Graph.Backend Backend => Net.Backend;
    public Engine.Graph.ParameterBuffers Parameters => Net.Parameters;
    public string ClassName(int c) => Net.Spec.ClassName(c);
    public string WeightsFile => Net.WeightsFile;
    public bool Segmentation => Net.Segmentation;

    /// <summary>
    /// Loads <paramref name="weightsArg"/> (a weights file or a run folder) with the settings of
    /// <see cref="ReadSettings"/>; <paramref name="ignoreLabel"/> replaces the run's ignore label.
    /// </summary>
    public static TrainedModel Load(ParseResult r, NetArguments netArgs, string weightsArg, int? gpu, int? ignoreLabel = null)
    {
        var settings = ReadSettings(r, netArgs, weightsArg);
        if (ignoreLabel is int ignore) settings = settings with { IgnoreLabel = ignore };
        return Load(settings, weightsArg, gpu, r.GetValue(netArgs.DenseEval));
    }

    /// <summary>Loads the weights file of <paramref name="settings"/>'s net onto the CPU or GPU <paramref name="gpu"/> in <paramref name="precision"/> (null: the device's default).</summary>
    public static TrainedModel Load(TrainSettings settings, string weightsArg, int? gpu, bool denseEvaluation, Engine.Graph.Precision? precision = null,
        Engine.Tensors.Layout? layout = null)
    {
        var weights = RunFolders.WeightsFile(weightsArg);
        var net = LoadedNet.Load(weights, settings.ToModelSpec(denseEvaluation), DeviceChoice.Create(gpu, precision, layout: layout));
        return new TrainedModel(settings, net);
    }

    /// <summary>
    /// The settings of the net behind <paramref name="weightsArg"/>: its run's (net options on the
    /// command line must agree), else the command line's, with the class count of the file's head
    /// when --classes is not given and torchvision's adaptive pooling for a file in its layout.
    /// </summary>
    public static TrainSettings ReadSettings(ParseResult r, NetArguments netArgs, string weightsArg)
    {
        var run = RunFolders.OfWeights(weightsArg);
        if (run is not null)
        {
            var settings = TrainSettings.FromJson(Checkpoint.ReadState(run).Config, Path.Combine(run, Checkpoint.RecordName));
            if (r.GetValue(netArgs.Net) is { } n && !string.Equals(TrainCommand.FindNet(n).Name, settings.Net, StringComparison.Ordinal))
                throw new UsageException($"--weights {weightsArg} belongs to a run of {settings.Net}, not {n}");
            var given = netArgs.Options(r);
            if (given.Input is { } i && i.ToString() != settings.Input) throw new UsageException($"--input {i}: the run was trained at {settings.Input}");
            if (given.Classes is { } c && c != settings.Classes) throw new UsageException($"--classes {c}: the run was trained with {settings.Classes}");
            return settings;
        }
        var file = RunFolders.WeightsFile(weightsArg);
        var name = r.GetValue(netArgs.Net) ?? throw new UsageException($"--net is needed: {weightsArg} is not inside a run folder that names its net");
        var found = TrainCommand.FindNet(name);
        var o = netArgs.Options(r);
        bool torchvision = WeightImport.LayoutOf(file) == NameMap.TorchvisionVgg;
        o = o with { AdaptivePool = o.AdaptivePool || torchvision };
        if (o.Classes is null && WeightImport.HeadClasses(file, NetRegistry.Build(found.Name, o)) is int headClasses) o = o with { Classes = headClasses };
        var resolved = NetRegistry.Resolve(found, o);
        return new TrainSettings
        {
            Net = found.Name, Input = resolved.Input!.Value.ToString(), Classes = resolved.Classes!.Value, Norm = r.GetValue(netArgs.Norm), Loss = r.GetValue(netArgs.Loss),
            Width = resolved.Width, AdaptivePool = resolved.AdaptivePool, Optimizer = "none", Schedule = "none",
            IgnoreLabel = found.Segmentation ? 255 : -1, Seed = 1,
        };
    }

    public Evaluator Evaluator(TaskInfo task, bool averageFlip = false) => new(Net.Graph, Net.Backend, Net.Parameters, task) { AverageFlip = averageFlip };

    public void Dispose() => Net.Dispose();
}
