using Engine.Cuda.Native;

namespace Engine.Cuda.DnnGraph;

/// <summary>
/// Picks an engine configuration from cuDNN's heuristics: the first one (they come best first)
/// whose numerical notes the options allow and whose execution plan finalizes within the
/// workspace limit.
/// </summary>
internal static class EngineChoice
{
    /// <summary>The plan and its workspace bytes, or null; every configuration passed over is described in <paramref name="rejected"/>.</summary>
    public static (BackendDescriptor Plan, long WorkspaceBytes)? First(IBackendApi api, nint handle, BackendDescriptor graph, BackendHeurMode mode,
        ConvGraphProblem p, long workspaceLimit, List<(BackendHeurMode Mode, string Why)> rejected, List<BackendDescriptor> owned)
    {
        using var heur = new BackendDescriptor(api, BackendDescriptorType.Engineheur);
        heur.Set(BackendAttribute.EngineheurOperationGraph, graph)
            .SetEnum(BackendAttribute.EngineheurMode, BackendAttributeType.HeurMode, (int)mode)
            .Finalize();
        long available = heur.Count(BackendAttribute.EngineheurResults, BackendAttributeType.BackendDescriptor);
        var configs = new BackendDescriptor[available];
        try
        {
            for (int i = 0; i < configs.Length; i++) configs[i] = new BackendDescriptor(api, BackendDescriptorType.Enginecfg);
            int filled = heur.GetDescriptors(BackendAttribute.EngineheurResults, configs);
            for (int i = 0; i < filled; i++)
            {
                if (Disallowed(api, configs[i], p) is { } note)
                {
                    rejected.Add((mode, note));
                    continue;
                }
                var plan = new BackendDescriptor(api, BackendDescriptorType.ExecutionPlan);
                int status;
                long bytes;
                try
                {
                    plan.SetHandle(BackendAttribute.ExecutionPlanHandle, handle).Set(BackendAttribute.ExecutionPlanEngineConfig, configs[i]);
                    status = plan.TryFinalize();
                    bytes = status == 0 ? plan.GetInt64(BackendAttribute.ExecutionPlanWorkspaceSize) : 0;
                }
                catch
                {
                    plan.Dispose();
                    throw;
                }
                if (status != 0 || bytes > workspaceLimit)
                {
                    rejected.Add((mode, status != 0 ? $"plan not finalized ({Cudnn.StatusName(status)})" : $"needs more than {workspaceLimit >> 20} MiB of workspace"));
                    plan.Dispose();
                    continue;
                }
                owned.Add(configs[i]);
                configs[i] = null!;
                owned.Add(plan);
                return (plan, bytes);
            }
            return null;
        }
        finally
        {
            foreach (var c in configs) c?.Dispose();
        }
    }

    /// <summary>"mode A: 3 x TF32 tensor cores (TF32 is off), 1 x non-deterministic; mode Fallback: …": one line however many configurations there were.</summary>
    public static string Summary(List<(BackendHeurMode Mode, string Why)> rejected) =>
        string.Join("; ", rejected.GroupBy(r => r.Mode).Select(m =>
            $"mode {m.Key}: " + string.Join(", ", m.GroupBy(r => r.Why).Select(w => $"{w.Count()} x {w.Key}"))));

    /// <summary>Why the options exclude this configuration's engine, or null: TF32 (tensor cores on float data) unless allowed, down-converted inputs always, non-determinism when determinism is asked for.</summary>
    private static string? Disallowed(IBackendApi api, BackendDescriptor config, ConvGraphProblem p)
    {
        using var engine = new BackendDescriptor(api, BackendDescriptorType.Engine);
        config.GetDescriptors(BackendAttribute.EnginecfgEngine, [engine]);
        var notes = engine.GetEnums(BackendAttribute.EngineNumericalNote, BackendAttributeType.NumericalNote, 16);
        foreach (var n in notes)
        {
            var note = (BackendNumericalNote)n;
            if (note == BackendNumericalNote.DownConvertInputs) return "down-converts its inputs";
            if (note == BackendNumericalNote.TensorCore && p.DataType == GraphDataType.Float && !p.Tf32) return "TF32 tensor cores (TF32 is off)";
            if (note == BackendNumericalNote.Nondeterministic && p.Deterministic) return "non-deterministic";
        }
        return null;
    }
}
