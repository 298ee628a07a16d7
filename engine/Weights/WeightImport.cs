using Engine.Graph;
using Engine.Tensors;

namespace Engine.Weights;

/// <summary>How strictly a weight file must fit the net.</summary>
public enum ImportMode
{
    /// <summary>Load what matches by name and shape, report the rest (--init-from).</summary>
    Partial,
    /// <summary>Every tensor of the net and of the file must match (a head of another class count aside).</summary>
    Strict,
    /// <summary>The engine's own names only, every tensor of the net present with its shape (resuming, a run's weights); extra file tensors are ignored.</summary>
    Exact,
}

/// <summary>A tensor found under the same name in both, with another shape.</summary>
public sealed record ShapeMismatch(string NetName, string FileName, Shape FileShape, Shape NetShape)
{
    public override string ToString() => NetName == FileName ? $"'{NetName}' is {FileShape} in the file, {NetShape} in the net"
        : $"'{FileName}' (the net's '{NetName}') is {FileShape} in the file, {NetShape} in the net";
}

/// <summary>What an import did: the layout recognised, what was loaded and everything left alone.</summary>
public sealed record ImportReport(string Path, NameMap Layout, int Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unused,
    IReadOnlyList<ShapeMismatch> Mismatches, ShapeMismatch? Head, string? Prefix, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>True when every tensor of the net was loaded from the file.</summary>
    public bool Complete => Missing.Count == 0 && Mismatches.Count == 0 && Head is null;

    public IEnumerable<string> Notes()
    {
        if (Layout != NameMap.Engine) yield return $"names read as {Layout.Name}'s";
        if (Prefix is not null) yield return $"the file's names were matched under the scope '{Prefix}'";
        if (Head is not null)
            yield return $"the head {Head.NetName} has {Head.FileShape[0]} classes in the file, {Head.NetShape[0]} in the net: it keeps its fresh initialisation";
        if (Mismatches.Count > 0) yield return $"{Mismatches.Count} tensor(s) of another shape keep their initial values: {string.Join("; ", Mismatches)}";
        if (Missing.Count > 0) yield return $"{Missing.Count} tensor(s) of the net are not in the file and keep their initial values: {Preview(Missing)}";
        if (Unused.Count > 0) yield return $"{Unused.Count} tensor(s) of the file are not in the net and were ignored: {Preview(Unused)}";
    }

    private static string Preview(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(8)) + (names.Count > 8 ? $", ... ({names.Count - 8} more)" : "");
}

/// <summary>
/// Loads a weight file (safetensors or PyTorch zip, any layout of <see cref="NameMap"/>) into a
/// net's parameters and states, one tensor at a time in the backend's float type.
/// </summary>
public static class WeightImport
{
    /// <summary>PyTorch BN's batch counter: bookkeeping the engine does not keep.</summary>
    private const string BatchCounter = "num_batches_tracked";

    public static ImportReport Load(string path, ParameterBuffers p, ImportMode mode)
    {
        using var reader = WeightFiles.Open(path);
        return Load(reader, p, mode);
    }

    public static ImportReport Load(WeightReader reader, ParameterBuffers p, ImportMode mode)
    {
        var plan = Plan(reader, p.Graph, mode);
        var problems = mode switch
        {
            ImportMode.Exact => plan.Missing.Select(n => $"'{n}' is missing").Concat(plan.Mismatches.Select(m => m.ToString())).ToList(),
            ImportMode.Strict => plan.Missing.Select(n => $"'{n}' is missing").Concat(plan.Mismatches.Select(m => m.ToString()))
                .Concat(plan.Unused.Select(n => $"'{n}' is not in the net")).ToList(),
            _ => [],
        };
        if (problems.Count > 0)
            throw new InvalidDataException($"{reader.Path} does not fit net '{p.Graph.Name}'{LayoutNote(plan.Layout)}: {problems.Count} problem(s): " +
                string.Join("; ", problems.Take(10)) + (problems.Count > 10 ? $" (and {problems.Count - 10} more)" : ""));
        if (plan.Matched.Count == 0)
            throw new InvalidDataException($"{reader.Path}: none of its {reader.Tensors.Count} tensors matches net '{p.Graph.Name}' by name and shape " +
                $"(file: {string.Join(", ", reader.Tensors.Take(3).Select(t => t.Name))}...; net: {string.Join(", ", TensorViews(p).Keys.Take(3))}...)");
        var views = TensorViews(p);
        foreach (var (entry, netName) in plan.Matched)
        {
            var (buffer, view) = views[netName];
            var backend = p.Backend;
            if (backend.FloatType == DataType.F64)
                reader.Read<double>(entry, (offset, values) => backend.Upload(new BufferSlice(buffer, view.Offset + offset, values.Length), values));
            else
                reader.Read<float>(entry, (offset, values) => backend.Upload(new BufferSlice(buffer, view.Offset + offset, values.Length), values));
        }
        return new ImportReport(reader.Path, plan.Layout, plan.Matched.Count, plan.Missing, plan.Unused, plan.Mismatches, plan.Head, plan.Prefix, reader.Metadata);
    }

    /// <summary>
    /// The class count of the file's head for <paramref name="graph"/>'s layout (the first
    /// dimension of the tensor that maps to the net's head weight), or null when the file has none.
    /// </summary>
    public static int? HeadClasses(string path, Graph.Graph graph)
    {
        using var reader = WeightFiles.Open(path);
        var layout = NameMap.Recognise(reader.Tensors.Select(t => t.Name).ToList());
        if (HeadWeight(graph) is not { } head || !layout.FileNames(graph).TryGetValue(head, out var fileName)) return null;
        return reader.Tensors.FirstOrDefault(t => t.Name == fileName)?.Shape is { Rank: >= 1 } s ? s[0] : null;
    }

    /// <summary>The layout of a file's names.</summary>
    public static NameMap LayoutOf(string path)
    {
        using var reader = WeightFiles.Open(path);
        return NameMap.Recognise(reader.Tensors.Select(t => t.Name).ToList());
    }

    private sealed record ImportPlan(NameMap Layout, List<(WeightEntry Entry, string NetName)> Matched, List<string> Missing,
        List<string> Unused, List<ShapeMismatch> Mismatches, ShapeMismatch? Head, string? Prefix);

    private static ImportPlan Plan(WeightReader reader, Graph.Graph graph, ImportMode mode)
    {
        var fileNames = reader.Tensors.Select(t => t.Name).ToList();
        var layout = mode == ImportMode.Exact ? NameMap.Engine : NameMap.Recognise(fileNames);
        var toFile = layout.FileNames(graph);
        var netOf = toFile.ToDictionary(kv => kv.Value, kv => kv.Key);
        string? prefix = null;
        if (layout == NameMap.Engine && mode == ImportMode.Partial && !fileNames.Any(netOf.ContainsKey))
        {
            // A classification backbone's file inside a net that holds it under a scope.
            var best = netOf.Keys.Where(n => n.Contains('.')).Select(n => n[..(n.IndexOf('.') + 1)]).Distinct()
                .Select(pre => (pre, n: fileNames.Count(f => netOf.ContainsKey(pre + f)))).OrderByDescending(x => x.n).FirstOrDefault();
            if (best.n > 0) prefix = best.pre;
        }
        string? NetName(string fileName) => netOf.GetValueOrDefault(prefix + fileName);

        var shapes = graph.Parameters.Views.Concat(graph.States.Views).ToDictionary(v => v.Name, v => v.Shape);
        var head = HeadWeight(graph);
        var matched = new List<(WeightEntry, string)>();
        var mismatches = new List<ShapeMismatch>();
        var unused = new List<string>();
        ShapeMismatch? headMismatch = null;
        foreach (var t in reader.Tensors)
        {
            if (NetName(t.Name) is not { } net)
            {
                if (!t.Name.EndsWith(BatchCounter, StringComparison.Ordinal)) unused.Add(t.Name);
                continue;
            }
            if (Fits(t.Shape, shapes[net]) && Elements.IsFloat(t.DType)) { matched.Add((t, net)); continue; }
            var mismatch = new ShapeMismatch(net, t.Name, t.Shape, shapes[net]);
            if (net == head && mode != ImportMode.Exact && t.Shape.Rank == shapes[net].Rank && t.Shape.Dims[1..].SequenceEqual(shapes[net].Dims[1..]))
                headMismatch = mismatch;
            else mismatches.Add(mismatch);
        }
        // The head's bias goes with its weight: another class count replaces both.
        if (headMismatch is not null)
        {
            var headBias = head![..^"weight".Length] + "bias";
            matched.RemoveAll(m => m.Item2 == headBias);
            mismatches.RemoveAll(m => m.NetName == headBias);
        }
        var loaded = matched.Select(m => m.Item2).Concat(mismatches.Select(m => m.NetName)).ToHashSet();
        if (headMismatch is not null) loaded.UnionWith(shapes.Keys.Where(n => n.StartsWith(head![..^"weight".Length], StringComparison.Ordinal)));
        var missing = shapes.Keys.Where(n => !loaded.Contains(n)).ToList();
        return new ImportPlan(layout, matched, missing, unused, mismatches, headMismatch, prefix);
    }

    /// <summary>The weight of the layer that computes the "logits" output (fc8, head.fc, the last conv).</summary>
    private static string? HeadWeight(Graph.Graph graph) =>
        graph.Outputs.TryGetValue("logits", out var logits) && logits.Producer is { Params.Length: > 0 } node ? node.Params[0].Name : null;

    private static Dictionary<string, (Engine.Graph.Buffer Buffer, ParamView View)> TensorViews(ParameterBuffers p) =>
        p.Graph.Parameters.Views.Select(v => (p.Values, v)).Concat(p.Graph.States.Views.Select(v => (p.States, v))).ToDictionary(x => x.v.Name);

    private static string LayoutNote(NameMap layout) => layout == NameMap.Engine ? "" : $" (names read as {layout.Name}'s)";

    /// <summary>
    /// Same shape, or the same values in another layout: equal element count and equal first
    /// (output) dimension, as between a dense layer [out, C*K*K] and the KxK convolution
    /// [out, C, K, K] that replaces it for VGG's dense evaluation.
    /// </summary>
    public static bool Fits(Shape file, Shape net) =>
        file == net || (file.Numel == net.Numel && file.Rank >= 1 && net.Rank >= 1 && file[0] == net[0]);
}
