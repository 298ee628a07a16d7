using System.Diagnostics;
using System.Globalization;
using System.Text;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Bench.Step;

/// <summary>
/// Every convolution of a net, timed alone on the float32 CPU reference: forward, weight
/// gradient and input gradient, each the median of several runs on random data of the layer's
/// real shape. Tells which pass of which layer shape a faster convolution path has to win.
/// </summary>
internal static class ConvProfile
{
    public sealed record Row(string Name, string Layer, Shape Input, long Macs, double ForwardMs, double WeightGradMs, double InputGradMs);

    public static List<Row> Measure(Graph.Graph graph, int batch, int repeats)
    {
        var rows = new List<Row>();
        var rng = new Rng(5);
        foreach (var node in graph.Nodes)
        {
            if (node.Op is not Conv2d conv) continue;
            var x = node.Inputs[0].Shape.WithBatch(batch);
            var y = node.Outputs[0].Shape.WithBatch(batch);
            long weightCount = (long)conv.OutChannels * (x[1] / conv.Groups) * conv.Kernel * conv.Kernel;
            float[] input = Random(x.Numel, rng), weight = Random(weightCount, rng), outGrad = Random(y.Numel, rng);
            float[] output = new float[y.Numel], weightGrad = new float[weightCount], inputGrad = new float[x.Numel];
            long sample = x.Numel / batch;
            float[] bias = new float[conv.HasBias ? conv.OutChannels : 0];
            double forward = Median(repeats, () => conv.Forward<float>(x, input, weight, bias, output, sample));
            double dw = Median(repeats, () => conv.WeightGradient<float>(x, input, outGrad, weightGrad, sample));
            double dx = Median(repeats, () => conv.InputGradient<float>(x, outGrad, weight, inputGrad, sample, overwrite: true));
            string layer = $"{x[1]}->{conv.OutChannels} {conv.Describe().Size} {x[2]}x{x[3]}";
            rows.Add(new Row(node.Name, layer, x, conv.MultiplyAccumulates([x], [y]), forward, dw, dx));
        }
        return rows;
    }

    public static string Format(List<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| conv | layer | MMAC | fwd ms | dW ms | dX ms | fwd GFLOP/s | dW GFLOP/s | dX GFLOP/s |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine(F($"| {r.Name} | {r.Layer} | {r.Macs / 1e6:F1} | {r.ForwardMs:F3} | {r.WeightGradMs:F3} | {r.InputGradMs:F3} | {Rate(r.Macs, r.ForwardMs)} | {Rate(r.Macs, r.WeightGradMs)} | {Rate(r.Macs, r.InputGradMs)} |"));
        double f = rows.Sum(r => r.ForwardMs), w = rows.Sum(r => r.WeightGradMs), d = rows.Sum(r => r.InputGradMs);
        long macs = rows.Sum(r => r.Macs);
        sb.AppendLine(F($"| (all {rows.Count}) | | {macs / 1e6:F1} | {f:F3} | {w:F3} | {d:F3} | {Rate(macs, f)} | {Rate(macs, w)} | {Rate(macs, d)} |"));
        return sb.ToString();
    }

    private static string Rate(long macs, double ms) => ms > 0 ? F($"{2.0 * macs / (ms * 1e6):F1}") : "-";

    private static double Median(int repeats, Action run)
    {
        run();
        var times = new double[Math.Max(3, repeats)];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    private static float[] Random(long count, Rng rng)
    {
        var a = new float[count];
        for (long i = 0; i < count; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
