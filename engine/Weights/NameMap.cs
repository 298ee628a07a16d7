using System.Text.RegularExpressions;
using Engine.Graph;

namespace Engine.Weights;

/// <summary>
/// How another library names a net's tensors: for a given graph, the file name of each of the
/// graph's parameters and states that the other layout has. <see cref="Recognise"/> picks the
/// map from a file's names.
/// </summary>
public abstract partial class NameMap
{
    /// <summary>The layout in words, for messages ("torchvision VGG").</summary>
    public abstract string Name { get; }

    /// <summary>The short name used on the command line (engine, torchvision, timm).</summary>
    public abstract string Key { get; }

    /// <summary>True when a file with these tensor names is in this layout.</summary>
    public abstract bool Recognises(IReadOnlyCollection<string> fileNames);

    /// <summary>The file's name of each of <paramref name="graph"/>'s tensors (engine name to file name); tensors the layout lacks are left out.</summary>
    public abstract IReadOnlyDictionary<string, string> FileNames(Graph.Graph graph);

    public static NameMap Engine { get; } = new EngineNames();
    public static NameMap TorchvisionVgg { get; } = new TorchvisionVggNames();
    public static NameMap TimmVoVNet { get; } = new TimmVoVNetNames();

    public static IReadOnlyList<NameMap> All { get; } = [Engine, TorchvisionVgg, TimmVoVNet];

    /// <summary>The layout the file's names are in (the engine's own when none other is recognised).</summary>
    public static NameMap Recognise(IReadOnlyCollection<string> fileNames) =>
        All.Skip(1).FirstOrDefault(m => m.Recognises(fileNames)) ?? Engine;

    /// <summary>The map named <paramref name="key"/> (engine, torchvision, timm).</summary>
    public static NameMap ByKey(string key) => All.FirstOrDefault(m => m.Key.Equals(key, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown name layout '{key}' (expected {string.Join(", ", All.Select(m => m.Key))})");

    protected static IEnumerable<string> TensorNames(Graph.Graph g) =>
        g.Parameters.Views.Concat(g.States.Views).Select(v => v.Name);

    private sealed class EngineNames : NameMap
    {
        public override string Name => "the engine's own";
        public override string Key => "engine";
        public override bool Recognises(IReadOnlyCollection<string> fileNames) => true;
        public override IReadOnlyDictionary<string, string> FileNames(Graph.Graph graph) => TensorNames(graph).ToDictionary(n => n, n => n);
    }

    /// <summary>
    /// torchvision's VGG: features.N is the Nth module of conv [BN] ReLU ... MaxPool, so a conv's
    /// index is the count of modules before it; classifier.0/3/6 are fc6/fc7/fc8.
    /// </summary>
    private sealed partial class TorchvisionVggNames : NameMap
    {
        public override string Name => "torchvision VGG";
        public override string Key => "torchvision";

        public override bool Recognises(IReadOnlyCollection<string> fileNames) =>
            fileNames.Contains("features.0.weight") && fileNames.Any(n => n.StartsWith("classifier.", StringComparison.Ordinal));

        public override IReadOnlyDictionary<string, string> FileNames(Graph.Graph graph)
        {
            var names = TensorNames(graph).ToList();
            bool norm = names.Any(n => n.Contains("_norm.", StringComparison.Ordinal));
            var map = new Dictionary<string, string>();
            int index = -1, block = -1;
            foreach (var conv in names.Select(n => ConvName().Match(n)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct())
            {
                int b = int.Parse(ConvName().Match(conv + ".").Groups[2].Value);
                index = index < 0 ? 0 : index + (norm ? 3 : 2) + (b != block ? 1 : 0);
                block = b;
                foreach (var n in names.Where(n => n.StartsWith(conv + ".", StringComparison.Ordinal)))
                    map[n] = $"features.{index}.{n[(conv.Length + 1)..]}";
                foreach (var n in names.Where(n => n.StartsWith(conv + "_norm.", StringComparison.Ordinal)))
                    map[n] = $"features.{index + 1}.{n[(conv.Length + 6)..]}";
            }
            foreach (var (fc, i) in new[] { ("fc6", 0), ("fc7", 3), ("fc8", 6) })
                foreach (var n in names.Where(n => n.StartsWith(fc + ".", StringComparison.Ordinal)))
                    map[n] = $"classifier.{i}.{n[(fc.Length + 1)..]}";
            return map;
        }

        [GeneratedRegex(@"^(block(\d+)\.conv\d+)\.")]
        private static partial Regex ConvName();
    }

    /// <summary>
    /// timm's VovNet (vovnet57a): stem.I and each OSA block's conv_mid.K and conv_concat are
    /// ConvNormAct modules (.conv, .bn); stages.S.blocks.M; head.fc.
    /// </summary>
    private sealed partial class TimmVoVNetNames : NameMap
    {
        public override string Name => "timm VoVNet";
        public override string Key => "timm";

        public override bool Recognises(IReadOnlyCollection<string> fileNames) =>
            fileNames.Contains("stem.0.conv.weight") && fileNames.Any(n => n.StartsWith("stages.0.blocks.0.conv_mid.", StringComparison.Ordinal));

        public override IReadOnlyDictionary<string, string> FileNames(Graph.Graph graph)
        {
            var map = new Dictionary<string, string>();
            foreach (var n in TensorNames(graph))
            {
                var m = EngineName().Match(n);
                if (!m.Success) { if (n.StartsWith("head.fc.", StringComparison.Ordinal)) map[n] = n; continue; }
                string module = m.Groups["stem"].Success
                    ? $"stem.{int.Parse(m.Groups["stem"].Value) - 1}"
                    : $"stages.{int.Parse(m.Groups["stage"].Value) - 2}.blocks.{int.Parse(m.Groups["osa"].Value) - 1}." +
                      (m.Groups["conv"].Success ? $"conv_mid.{int.Parse(m.Groups["conv"].Value) - 1}" : "conv_concat");
                map[n] = $"{module}.{(m.Groups["norm"].Success ? "bn" : "conv")}.{m.Groups["tensor"].Value}";
            }
            return map;
        }

        [GeneratedRegex(@"^(?:stem\.conv(?<stem>\d+)|stage(?<stage>\d+)\.osa(?<osa>\d+)\.(?:conv(?<conv>\d+)|proj))(?<norm>_norm)?\.(?<tensor>\w+)$")]
        private static partial Regex EngineName();
    }
}
