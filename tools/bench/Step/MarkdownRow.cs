using System.Globalization;

namespace Engine.Bench.Step;

/// <summary>Appends one result row to a markdown table, writing the header first when the file is new or empty.</summary>
public static class MarkdownRow
{
    public const string Header =
        "| net | input | batch | device | precision | optimizer | median ms/step | images/s | GFLOP/step | TFLOP/s | peak MiB |\n" +
        "|---|---|---:|---|---|---|---:|---:|---:|---:|---:|\n";

    public static void Append(string path, StepArgs a, string device, string precision, double medianMs, double imagesPerSecond,
        double flops, double tflops, long? peakBytes)
    {
        bool fresh = !File.Exists(path) || new FileInfo(path).Length == 0;
        string peak = peakBytes is { } b ? (b / 1048576.0).ToString("F0", CultureInfo.InvariantCulture) : "-";
        string net = a.Width == 1 ? a.Net : FormattableString.Invariant($"{a.Net} (width {a.Width})");
        string row = FormattableString.Invariant(
            $"| {net} | {a.Input} | {a.Batch} | {device} | {precision} | {a.Optimizer} | {medianMs:F2} | {imagesPerSecond:F1} | {flops / 1e9:F1} | {tflops:F3} | {peak} |\n");
        File.AppendAllText(path, (fresh ? Header : "") + row);
    }
}
