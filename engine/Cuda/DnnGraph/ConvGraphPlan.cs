using Engine.Cuda.Native;

namespace Engine.Cuda.DnnGraph;

/// <summary>
/// A finalized execution plan for one convolution problem, with the descriptors it was built
/// from (kept alive with it) and the workspace it needs. <see cref="Build"/> returns null with
/// the reason when no engine of cuDNN's heuristics takes the problem.
/// </summary>
public sealed unsafe class ConvGraphPlan : IDisposable
{
    private readonly IBackendApi _api;
    private readonly List<BackendDescriptor> _owned;
    private readonly BackendDescriptor _plan;

    private ConvGraphPlan(IBackendApi api, List<BackendDescriptor> owned, BackendDescriptor plan, long workspaceBytes, BackendHeurMode mode)
    {
        _api = api;
        _owned = owned;
        _plan = plan;
        WorkspaceBytes = workspaceBytes;
        Mode = mode;
    }

    public long WorkspaceBytes { get; }
    /// <summary>The heuristic mode whose engine configuration the plan uses.</summary>
    public BackendHeurMode Mode { get; }

    /// <summary>The operation graph of one convolution node and the first plan that finalizes within the limits.</summary>
    public static ConvGraphPlan? Build(IBackendApi api, nint handle, ConvGraphProblem p, long workspaceLimit, out string? whyNot)
    {
        var owned = new List<BackendDescriptor>();
        BackendDescriptor Own(BackendDescriptor d) { owned.Add(d); return d; }
        ConvGraphPlan? built = null;
        whyNot = null;
        try
        {
            var x = Own(p.X.Build(api));
            var w = Own(p.W.Build(api));
            var y = Own(p.Y.Build(api));
            var conv = Own(p.Convolution.Build(api));
            var op = Own(ConvOperation.Build(api, p.Pass, x, w, y, conv, 1f, p.Beta));
            var graph = Own(new BackendDescriptor(api, BackendDescriptorType.Operationgraph));
            graph.SetHandle(BackendAttribute.OperationgraphHandle, handle).Set(BackendAttribute.OperationgraphOps, [op]).Finalize();
            var rejected = new List<(BackendHeurMode, string)>();
            foreach (var mode in (ReadOnlySpan<BackendHeurMode>)[BackendHeurMode.A, BackendHeurMode.Fallback])
            {
                if (EngineChoice.First(api, handle, graph, mode, p, workspaceLimit, rejected, owned) is var (plan, bytes))
                    return built = new ConvGraphPlan(api, owned, plan, bytes, mode);
            }
            whyNot = rejected.Count == 0 ? "the heuristics returned no engine configuration" : EngineChoice.Summary(rejected);
            return null;
        }
        catch (CudaException e) when (e.Code / 1000 == 3) // CUDNN_STATUS_NOT_SUPPORTED_*: an answer, not a fault
        {
            whyNot = e.Message;
            return null;
        }
        finally
        {
            if (built is null) foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>Runs the plan: <paramref name="x"/>, <paramref name="w"/>, <paramref name="y"/> are bound to the X, W and Y roles of the problem.</summary>
    public void Execute(nint handle, DevicePtr x, DevicePtr w, DevicePtr y, DevicePtr workspace, string what)
    {
        using var pack = new BackendDescriptor(_api, BackendDescriptorType.VariantPack);
        pack.Set(BackendAttribute.VariantPackUniqueIds, [ConvGraphProblem.XUid, ConvGraphProblem.WUid, ConvGraphProblem.YUid])
            .SetPointers(BackendAttribute.VariantPackDataPointers, [x.Address, w.Address, y.Address])
            .SetPointer(BackendAttribute.VariantPackWorkspace, workspace.Address)
            .Finalize();
        BackendDescriptor.Check(_api.Execute(handle, _plan.Handle, pack.Handle), $"cudnnBackendExecute({what})");
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
