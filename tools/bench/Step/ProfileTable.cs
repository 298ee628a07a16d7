using System.Globalization;
using System.Text;
using Engine.Graph;

namespace Engine.Bench.Step;

/// <summary>The per-op breakdown of a profiled step as markdown tables: per node, then per op type.</summary>
public static class ProfileTable
{
    public static string Format(StepProfile p, int batch)
    {
        var sb = new StringBuilder();
        double step = p.StepMs;
        string Pct(double ms) => F($"{100 * ms / step:F1}%");
        sb.AppendLine(F($"per-node times: medians of {p.Steps} profiled steps (GPU: events on the stream, one synchronise per step); profiled step {step:F3} ms"));
        sb.AppendLine("rows in parentheses are outside the nodes (their time in the fwd column); MMAC: forward multiply-accumulates of the batch; GFLOP/s: 6 x MAC / (fwd + bwd)");
        sb.AppendLine();
        sb.AppendLine("| node | type | fwd ms | bwd ms | share | MMAC | GFLOP/s |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        double nodesMs = 0;
        var byType = new Dictionary<string, (double Fwd, double Bwd, long Macs, int Count)>();
        foreach (var n in p.Nodes)
        {
            double fwd = n.ForwardMs ?? 0, bwd = n.BackwardMs ?? 0;
            nodesMs += fwd + bwd;
            long macs = Macs(n.Node) * batch;
            string rate = macs > 0 && fwd + bwd > 0 ? F($"{6.0 * macs / ((fwd + bwd) * 1e6):F1}") : "";
            sb.AppendLine(F($"| {n.Node.Name} | {n.Node.Op.Type} | {Ms(n.ForwardMs)} | {Ms(n.BackwardMs)} | {Pct(fwd + bwd)} | {(macs > 0 ? F($"{macs / 1e6:F1}") : "")} | {rate} |"));
            var t = byType.GetValueOrDefault(n.Node.Op.Type);
            byType[n.Node.Op.Type] = (t.Fwd + fwd, t.Bwd + bwd, t.Macs + macs, t.Count + 1);
        }
        double sections = 0;
        foreach (var (name, ms) in p.Sections.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            sections += ms;
            sb.AppendLine(F($"| ({name}) | | {ms:F3} | | {Pct(ms)} | | |"));
        }
        double other = step - nodesMs - sections;
        sb.AppendLine(F($"| (other: zeroing of concatenation gradients, gaps between nodes) | | {other:F3} | | {Pct(other)} | | |"));
        sb.AppendLine();
        sb.AppendLine("| op type | nodes | fwd ms | bwd ms | share | GFLOP/s |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (type, t) in byType.OrderByDescending(kv => kv.Value.Fwd + kv.Value.Bwd))
        {
            string rate = t.Macs > 0 && t.Fwd + t.Bwd > 0 ? F($"{6.0 * t.Macs / ((t.Fwd + t.Bwd) * 1e6):F1}") : "";
            sb.AppendLine(F($"| {type} | {t.Count} | {t.Fwd:F3} | {t.Bwd:F3} | {Pct(t.Fwd + t.Bwd)} | {rate} |"));
        }
        return sb.ToString();
    }

    /// <summary>Forward multiply-accumulates of a node per image (the per-node term of `host info`'s total).</summary>
    public static long Macs(Node n) =>
        n.Op.MultiplyAccumulates(n.Inputs.Select(v => v.Shape).ToArray(), n.Outputs.Select(v => v.Shape).ToArray());

    private static string Ms(double? ms) => ms is { } v ? F($"{v:F3}") : "";
    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
