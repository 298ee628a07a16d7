using Engine.Graph;
using Engine.Tensors;

namespace Engine.Training.Checkpoints;

/// <summary>What <see cref="WeightFile.LoadMatching"/> did, for the run's log.</summary>
public sealed record InitReport(int Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Extra, string? Prefix)
{
    public IEnumerable<string> Notes()
    {
        if (Prefix is not null) yield return $"the file's names were matched under the scope '{Prefix}'";
        if (Missing.Count > 0) yield return $"{Missing.Count} tensor(s) of the net are not in the file and keep their initial values: {Preview(Missing)}";
        if (Extra.Count > 0) yield return $"{Extra.Count} tensor(s) in the file are not in the net and were ignored: {Preview(Extra)}";
    }

    private static string Preview(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(6)) + (names.Count > 6 ? $", ... ({names.Count - 6} more)" : "");
}

/// <summary>
/// A net's weights as a safetensors file: every parameter and every state (BN running
/// statistics) under the engine's dotted names, F32 (F64 from a float64 backend).
/// </summary>
public static class WeightFile
{
    public static void Save(string path, ParameterBuffers p, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = Views(p).Select(x => Entry(p.Backend, p.Slice(x.Buffer, x.View), x.View.Name, x.View.Shape)).ToList();
        AtomicFile.Write(path, s => SafeTensors.Write(s, entries, metadata));
    }

    /// <summary>A tensor entry that downloads <paramref name="slice"/> when it is written.</summary>
    public static SafeTensors.Entry Entry(Backend backend, BufferSlice slice, string name, Shape shape)
    {
        if (backend.FloatType == DataType.F64)
            return new(name, shape, Float64: () => { var a = new double[slice.Count]; backend.Download(slice, a); return a; });
        return new(name, shape, Float32: () => { var a = new float[slice.Count]; backend.Download(slice, a); return a; });
    }

    /// <summary>Loads every parameter and state; any name missing or of another shape is an error (resuming a run).</summary>
    public static IReadOnlyDictionary<string, string> LoadExact(string path, ParameterBuffers p)
    {
        var (tensors, meta) = SafeTensors.Read(path);
        var byName = tensors.ToDictionary(t => t.Name);
        var problems = new List<string>();
        foreach (var (buffer, view) in Views(p))
        {
            if (!byName.TryGetValue(view.Name, out var t)) problems.Add($"'{view.Name}' is missing");
            else if (!Fits(t.Shape, view.Shape)) problems.Add($"'{view.Name}' has shape {t.Shape}, the net needs {view.Shape}");
            else p.Backend.Upload(p.Slice(buffer, view), t.Data);
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"{path} does not fit net '{p.Graph.Name}': {string.Join("; ", problems.Take(5))}{(problems.Count > 5 ? $" (and {problems.Count - 5} more)" : "")}");
        return meta;
    }

    /// <summary>
    /// Loads the tensors whose names (and shapes) match the net's; the rest of the net keeps its
    /// values. When no name matches as is, the file's names are tried under each top-level scope
    /// of the net (a classification backbone inside a segmentation net). A shape mismatch is an
    /// error; so is a file with nothing in common with the net.
    /// </summary>
    public static InitReport LoadMatching(string path, ParameterBuffers p)
    {
        var (tensors, _) = SafeTensors.Read(path);
        var views = Views(p).ToDictionary(v => v.View.Name);
        string? prefix = null;
        int direct = tensors.Count(t => views.ContainsKey(t.Name));
        if (direct == 0)
        {
            var best = views.Keys.Where(n => n.Contains('.')).Select(n => n[..(n.IndexOf('.') + 1)]).Distinct()
                .Select(pre => (pre, n: tensors.Count(t => views.ContainsKey(pre + t.Name))))
                .OrderByDescending(x => x.n).FirstOrDefault();
            if (best.n > 0) prefix = best.pre;
        }
        string Map(string name) => prefix + name;

        var mismatches = tensors.Where(t => views.TryGetValue(Map(t.Name), out var v) && !Fits(t.Shape, v.View.Shape))
            .Select(t => $"'{Map(t.Name)}' is {t.Shape} in the file but {views[Map(t.Name)].View.Shape} in the net").ToList();
        if (mismatches.Count > 0)
            throw new InvalidDataException($"{path}: {mismatches.Count} tensor(s) have other shapes than in net '{p.Graph.Name}': " +
                string.Join("; ", mismatches.Take(5)) + (mismatches.Count > 5 ? " ..." : ""));
        var matched = tensors.Where(t => views.ContainsKey(Map(t.Name))).ToList();
        if (matched.Count == 0)
            throw new InvalidDataException($"{path}: none of its {tensors.Count} tensor names matches a parameter of net '{p.Graph.Name}' " +
                $"(file: {string.Join(", ", tensors.Take(3).Select(t => t.Name))}...; net: {string.Join(", ", views.Keys.Take(3))}...)");
        foreach (var t in matched)
        {
            var (buffer, view) = views[Map(t.Name)];
            p.Backend.Upload(p.Slice(buffer, view), t.Data);
        }
        var loaded = matched.Select(t => Map(t.Name)).ToHashSet();
        var missing = views.Keys.Where(n => !loaded.Contains(n)).ToList();
        var extra = tensors.Where(t => !views.ContainsKey(Map(t.Name))).Select(t => t.Name).ToList();
        return new InitReport(matched.Count, missing, extra, prefix);
    }

    /// <summary>
    /// Same shape, or the same values in another layout: equal element count and equal first
    /// (output) dimension, as between a dense layer [out, C*K*K] and the KxK convolution
    /// [out, C, K, K] that replaces it for VGG's dense evaluation.
    /// </summary>
    public static bool Fits(Shape file, Shape net) =>
        file == net || (file.Numel == net.Numel && file.Rank >= 1 && net.Rank >= 1 && file[0] == net[0]);

    private static IEnumerable<(Engine.Graph.Buffer Buffer, ParamView View)> Views(ParameterBuffers p) =>
        p.Graph.Parameters.Views.Select(v => (p.Values, v)).Concat(p.Graph.States.Views.Select(v => (p.States, v)));
}
