using System.Globalization;
using System.Text;
using Engine.Graph;
using Engine.Tensors;

namespace Host;

/// <summary>The `host info` description of a built net: one row per node, then its totals.</summary>
public static class LayerTable
{
    public static string Format(Graph graph)
    {
        var rows = new List<string[]> { new[] { "layer", "type", "filters", "size/stride", "input", "output" } };
        foreach (var node in graph.Nodes)
        {
            var (filters, size) = node.Op.Describe();
            rows.Add([node.Name, node.Op.Type, filters, size,
                Shapes(node.Inputs.Where(v => v.IsFloat).Select(v => v.Shape)),
                Sample(node.Outputs[0].Shape)]);
        }
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var r in rows)
            sb.AppendLine(string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());

        sb.AppendLine($"parameters: {Thousands(graph.Parameters.Count)}");
        if (graph.States.Count > 0) sb.AppendLine($"running statistics: {Thousands(graph.States.Count)} values (not trained)");
        sb.AppendLine($"multiply-accumulates: {Thousands(graph.MultiplyAccumulates)} per image");
        return sb.ToString();
    }

    public static string Thousands(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Sample(Shape s) => s.DropFirst().ToString();

    /// <summary>Input shapes, runs of equal shapes collapsed: "768x14x14 + 5 x 192x14x14".</summary>
    private static string Shapes(IEnumerable<Shape> shapes)
    {
        var parts = new List<string>();
        Shape? last = null;
        int run = 0;
        void Flush() { if (last is { } l) parts.Add(run == 1 ? Sample(l) : $"{run} x {Sample(l)}"); }
        foreach (var s in shapes)
        {
            if (last == s) { run++; continue; }
            Flush();
            last = s;
            run = 1;
        }
        Flush();
        return string.Join(" + ", parts);
    }
}
