using Engine.Weights;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Engine.Graph;
using Engine.Training.Optimizers;

namespace Engine.Training.Checkpoints;

/// <summary>Where a run stands: everything besides tensors that a resumed run needs to continue exactly.</summary>
public sealed class CheckpointState
{
    /// <summary>Updates done so far.</summary>
    public long Step { get; set; }
    /// <summary>The loader position of the next batch: epoch (from 0) and batch within it.</summary>
    public int Epoch { get; set; }
    public int BatchInEpoch { get; set; }
    public ulong Seed { get; set; }
    public string Net { get; set; } = "";
    public string Optimizer { get; set; } = "";
    public long OptimizerSteps { get; set; }
    public JsonObject Schedule { get; set; } = [];
    /// <summary>Running sums of the epoch in progress.</summary>
    public JsonObject? TrainMeter { get; set; }
    public double EpochSeconds { get; set; }
    /// <summary>One object per finished epoch (the rows of metrics.csv).</summary>
    public JsonArray History { get; set; } = [];
    /// <summary>The run's settings, so that a resumed run uses the same ones.</summary>
    public JsonObject Config { get; set; } = [];
    public string WeightsFile { get; set; } = "";
    public string OptimizerFile { get; set; } = "";

    public JsonObject ToJson() => new()
    {
        ["format"] = "engine-checkpoint-1",
        ["step"] = Step, ["epoch"] = Epoch, ["batchInEpoch"] = BatchInEpoch,
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
        ["net"] = Net, ["optimizer"] = Optimizer, ["optimizerSteps"] = OptimizerSteps,
        ["schedule"] = Schedule.DeepClone(), ["trainMeter"] = TrainMeter?.DeepClone(), ["epochSeconds"] = EpochSeconds,
        ["history"] = History.DeepClone(), ["config"] = Config.DeepClone(),
        ["weights"] = WeightsFile, ["optimizerState"] = OptimizerFile,
        ["written"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
    };

    public static CheckpointState FromJson(JsonObject o, string source)
    {
        try
        {
            if ((string?)o["format"] != "engine-checkpoint-1") throw new InvalidDataException($"{source}: not an engine checkpoint (format '{o["format"]}')");
            return new CheckpointState
            {
                Step = (long)o["step"]!, Epoch = (int)o["epoch"]!, BatchInEpoch = (int)o["batchInEpoch"]!,
                Seed = ulong.Parse((string)o["seed"]!, CultureInfo.InvariantCulture),
                Net = (string)o["net"]!, Optimizer = (string)o["optimizer"]!, OptimizerSteps = (long)o["optimizerSteps"]!,
                Schedule = o["schedule"]?.AsObject().DeepClone().AsObject() ?? [],
                TrainMeter = o["trainMeter"]?.AsObject().DeepClone().AsObject(),
                EpochSeconds = (double?)o["epochSeconds"] ?? 0,
                History = o["history"]?.AsArray().DeepClone().AsArray() ?? [],
                Config = o["config"]?.AsObject().DeepClone().AsObject() ?? [],
                WeightsFile = (string)o["weights"]!, OptimizerFile = (string)o["optimizerState"]!,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{source}: damaged checkpoint ({e.Message})");
        }
    }
}

/// <summary>
/// A run folder's checkpoints. Each save writes checkpoints/step-N.safetensors (weights and
/// BN states), checkpoints/step-N.optimizer.safetensors (velocity or Adam moments, named
/// "{state}.{parameter}") and finally checkpoint.json, the record that names them; every file
/// goes through a temporary file and a rename, and older files are deleted only after the new
/// record is in place, so a crash at any point leaves the previous checkpoint whole.
/// </summary>
public static class Checkpoint
{
    public const string RecordName = "checkpoint.json";
    public const string Folder = "checkpoints";
    /// <summary>Checkpoints kept besides the newest.</summary>
    public const int KeepPrevious = 1;

    public static bool Exists(string runDir) => File.Exists(Path.Combine(runDir, RecordName));

    public static void Save(string runDir, CheckpointState state, ParameterBuffers parameters, Optimizer optimizer)
    {
        string stem = $"{Folder}/step-{state.Step:D8}";
        state.WeightsFile = stem + ".safetensors";
        state.OptimizerFile = stem + ".optimizer.safetensors";
        state.Optimizer = optimizer.Kind;
        state.OptimizerSteps = optimizer.Steps;
        var meta = new Dictionary<string, string>
        {
            ["net"] = state.Net, ["step"] = state.Step.ToString(CultureInfo.InvariantCulture),
            ["epoch"] = state.Epoch.ToString(CultureInfo.InvariantCulture), ["format"] = "pt",
        };
        try
        {
            WeightFile.Save(Path.Combine(runDir, state.WeightsFile), parameters, meta);
            SaveOptimizer(Path.Combine(runDir, state.OptimizerFile), parameters, optimizer);
            AtomicFile.WriteText(Path.Combine(runDir, RecordName), state.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RemoveUnrecorded(runDir, state);
            throw;
        }
        DeleteOlder(runDir, state);
    }

    /// <summary>After a failed save: the files of that save which the record does not name (it still names the previous checkpoint).</summary>
    private static void RemoveUnrecorded(string runDir, CheckpointState failed)
    {
        try
        {
            if (Exists(runDir) && ReadState(runDir).WeightsFile == failed.WeightsFile) return;
            foreach (var f in new[] { failed.WeightsFile, failed.OptimizerFile }) File.Delete(Path.Combine(runDir, f));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException) { }
    }

    /// <summary>The record alone (settings and position), without touching any buffers.</summary>
    public static CheckpointState ReadState(string runDir)
    {
        var path = Path.Combine(runDir, RecordName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no checkpoint to resume from: {path} does not exist");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: damaged checkpoint record ({e.Message})"); }
        return CheckpointState.FromJson(node as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object"), path);
    }

    /// <summary>Loads weights, states and optimizer state into the given buffers; returns the record.</summary>
    public static CheckpointState Load(string runDir, ParameterBuffers parameters, Optimizer optimizer)
    {
        var state = ReadState(runDir);
        if (state.Optimizer != optimizer.Kind)
            throw new InvalidDataException($"{Path.Combine(runDir, RecordName)}: the run used optimizer '{state.Optimizer}', not '{optimizer.Kind}'");
        WeightFile.LoadExact(Path.Combine(runDir, state.WeightsFile), parameters);
        LoadOptimizer(Path.Combine(runDir, state.OptimizerFile), parameters, optimizer);
        optimizer.Steps = state.OptimizerSteps;
        return state;
    }

    private static void SaveOptimizer(string path, ParameterBuffers p, Optimizer o)
    {
        var entries = new List<SafeTensors.Entry>();
        for (int i = 0; i < o.StateNames.Count; i++)
            foreach (var v in p.Trainable)
                entries.Add(WeightFile.Entry(p.Backend, o.StateSlice(i, v), $"{o.StateNames[i]}.{v.Name}", v.Shape));
        var meta = new Dictionary<string, string> { ["optimizer"] = o.Kind, ["steps"] = o.Steps.ToString(CultureInfo.InvariantCulture) };
        AtomicFile.Write(path, s => SafeTensors.Write(s, entries, meta));
    }

    private static void LoadOptimizer(string path, ParameterBuffers p, Optimizer o)
    {
        var byName = SafeTensors.Read(path).Tensors.ToDictionary(t => t.Name);
        long expected = o.StateNames.Count * p.Trainable.Count();
        if (byName.Count != expected)
            throw new InvalidDataException($"{path}: optimizer state for {byName.Count} tensors, but {expected} parameter tensors are trainable here " +
                $"({(p.FreezeBackbone ? "the backbone frozen" : "every layer trainable")}): the run was trained with {(byName.Count > expected ? "more" : "fewer")} trainable layers");
        for (int i = 0; i < o.StateNames.Count; i++)
            foreach (var v in p.Trainable)
            {
                string name = $"{o.StateNames[i]}.{v.Name}";
                if (!byName.TryGetValue(name, out var t) || t.Shape != v.Shape)
                    throw new InvalidDataException($"{path}: optimizer state '{name}' is missing or has another shape");
                p.Backend.Upload(o.StateSlice(i, v), t.Data);
            }
    }

    private static void DeleteOlder(string runDir, CheckpointState current)
    {
        var dir = Path.Combine(runDir, Folder);
        var steps = Directory.GetFiles(dir, "step-*.safetensors")
            .Select(f => Path.GetFileName(f)["step-".Length..].Split('.')[0])
            .Distinct().Order(StringComparer.Ordinal).ToList();
        var keep = steps.Where(s => string.CompareOrdinal(s, current.Step.ToString("D8", CultureInfo.InvariantCulture)) <= 0).TakeLast(KeepPrevious + 1).ToHashSet();
        foreach (var f in Directory.GetFiles(dir, "step-*"))
        {
            var s = Path.GetFileName(f)["step-".Length..].Split('.')[0];
            if (!keep.Contains(s)) { try { File.Delete(f); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } }
        }
    }
}
