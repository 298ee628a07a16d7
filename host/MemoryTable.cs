using System.Globalization;
using System.Text;
using Engine.Graph.Memory;

namespace Host;

/// <summary>The `host info --batch` description of a net's memory plan.</summary>
public static class MemoryTable
{
    public static string Format(MemoryBudget m, int batch, string optimizer)
    {
        var plan = m.Plan;
        var sb = new StringBuilder();
        sb.AppendLine($"memory plan at batch {batch}, {(plan.Training ? $"training with {optimizer}" : "evaluation")}, {plan.FloatType}:");
        Row(sb, "parameters", m.Parameters);
        if (plan.Training)
        {
            Row(sb, "gradients", m.Gradients);
            Row(sb, "optimizer state", m.OptimizerState);
        }
        Row(sb, "running statistics", m.States);
        Row(sb, "activation arena", plan.ArenaBytes,
            $"{plan.Blocks.Count} tensors{(plan.Training ? " and gradients" : "")} packed by lifetime: {plan.Strategy}; " +
            $"{plan.ViewCount} concatenation input(s) written in place, {plan.InPlaceCount} output(s) over their input, " +
            $"{plan.RecomputedCount} recomputed in backward");
        Row(sb, "total", m.Total);
        sb.AppendLine("  conv workspace: cuDNN's choice at run time, one shared buffer (GPU only, not in the total)");
        Row(sb, "before planning", m.KeepEverythingTotal, "every value and gradient kept for the executor's life");
        if (plan.BestFitBytes > 0)
            sb.AppendLine($"  packing: best fit {MiB(plan.BestFitBytes)}, free-list reuse {MiB(plan.FreeListBytes)}; most alive at one step {MiB(plan.PeakAliveBytes)}");
        if (plan.Steps > 0)
        {
            var largest = plan.AliveAt(plan.PeakStep).Take(6).Select(b => $"{b.Name} {MiB(b.Bytes)}");
            sb.AppendLine($"  peak: step {plan.PeakStep + 1} of {plan.Steps} ({plan.StepName(plan.PeakStep)}); largest alive: {string.Join(", ", largest)}");
        }
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string what, long bytes, string? note = null) =>
        sb.AppendLine($"  {what,-20}{MiB(bytes),14}{(note is null ? "" : "  " + note)}");

    public static string MiB(long bytes) => (bytes / 1048576.0).ToString("N1", CultureInfo.InvariantCulture) + " MiB";
}
