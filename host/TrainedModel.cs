using System.CommandLine;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Training;
using Engine.Training.Checkpoints;

namespace Host;

/// <summary>
/// A trained net ready for inference: its settings (from the run folder the weights belong to,
/// else from the command line), the built graph, and the weights loaded onto a backend.
/// </summary>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(TrainSettings settings, NetInfo info, Shape input, Graph graph, Backend backend, ParameterBuffers parameters, string weights)
    {
        Settings = settings; Info = info; Input = input; Graph = graph; Backend = backend; Parameters = parameters; WeightsFile = weights;
    }

    public TrainSettings Settings { get; }
    public NetInfo Info { get; }
    public Shape Input { get; }
    public Graph Graph { get; }
    public Backend Backend { get; }
    public ParameterBuffers Parameters { get; }
    public string WeightsFile { get; }
    public bool Segmentation => Info.Segmentation;

    public string ClassName(int c) => c >= 0 && c < Settings.ClassNames.Count ? Settings.ClassNames[c] : $"class {c}";

    /// <summary>
    /// Loads <paramref name="weightsArg"/> (a .safetensors file or a run folder). Inside a run folder
    /// the run's own settings are used and net options on the command line must agree; otherwise
    /// --net and the net options describe the net. <paramref name="ignoreLabel"/> replaces the run's
    /// ignore label in the loss (the convention of the data being evaluated; the weights do not depend on it).
    /// </summary>
    public static TrainedModel Load(ParseResult r, NetArguments netArgs, string weightsArg, int? gpu, int? ignoreLabel = null)
    {
        var weights = RunFolders.WeightsFile(weightsArg);
        var settings = ReadSettings(r, netArgs, weightsArg);
        if (ignoreLabel is int ignore) settings = settings with { IgnoreLabel = ignore };
        var info = NetRegistry.Find(settings.Net);
        var input = NetArguments.ParseInput(settings.Input)!.Value;
        bool dense = r.GetValue(netArgs.DenseEval);
        var graph = NetRegistry.Build(info.Name, new NetOptions
        {
            Input = input, Classes = settings.Classes, Norm = NetArguments.ParseNorm(settings.Norm), Width = settings.Width,
            IgnoreLabel = info.Segmentation ? settings.IgnoreLabel : -1, Loss = NetArguments.ParseLoss(settings.Loss),
            // fc6 becomes a convolution over the final feature map of the training resolution (7x7 at 224).
            DenseEvaluation = dense, DenseKernel = Math.Max(1, input[1] / 32),
        });
        var backend = DeviceChoice.Create(gpu);
        var parameters = new ParameterBuffers(graph, backend);
        try { WeightFile.LoadExact(weights, parameters); }
        catch
        {
            parameters.Dispose();
            backend.Dispose();
            throw;
        }
        return new TrainedModel(settings, info, input, graph, backend, parameters, weights);
    }

    /// <summary>The settings of the net behind <paramref name="weightsArg"/>: its run's, else the command line's.</summary>
    public static TrainSettings ReadSettings(ParseResult r, NetArguments netArgs, string weightsArg)
    {
        var run = RunFolders.OfWeights(weightsArg);
        TrainSettings settings;
        if (run is not null)
        {
            settings = TrainSettings.FromJson(Checkpoint.ReadState(run).Config, Path.Combine(run, Checkpoint.RecordName));
            if (r.GetValue(netArgs.Net) is { } n && !string.Equals(TrainCommand.FindNet(n).Name, settings.Net, StringComparison.Ordinal))
                throw new UsageException($"--weights {weightsArg} belongs to a run of {settings.Net}, not {n}");
            var given = netArgs.Options(r);
            if (given.Input is { } i && i.ToString() != settings.Input) throw new UsageException($"--input {i}: the run was trained at {settings.Input}");
            if (given.Classes is { } c && c != settings.Classes) throw new UsageException($"--classes {c}: the run was trained with {settings.Classes}");
        }
        else
        {
            var name = r.GetValue(netArgs.Net) ?? throw new UsageException($"--net is needed: {weightsArg} is not inside a run folder that names its net");
            var found = TrainCommand.FindNet(name);
            var o = netArgs.Options(r);
            var resolved = NetRegistry.Resolve(found, o);
            settings = new TrainSettings
            {
                Net = found.Name, Input = resolved.Input!.Value.ToString(), Classes = resolved.Classes!.Value, Norm = r.GetValue(netArgs.Norm), Loss = r.GetValue(netArgs.Loss),
                Width = resolved.Width, Optimizer = "none", Schedule = "none", IgnoreLabel = found.Segmentation ? 255 : -1, Seed = 1,
            };
        }
        return settings;
    }

    public Evaluator Evaluator(TaskInfo task, bool averageFlip = false) => new(Graph, Backend, Parameters, task) { AverageFlip = averageFlip };

    public void Dispose()
    {
        Parameters.Dispose();
        Backend.Dispose();
    }
}
