using Engine.Cuda.DnnGraph;

namespace Engine.Cuda;

/// <summary>Convolutions through cuDNN's backend (graph) API, one cached execution plan per problem.</summary>
public sealed partial class Dnn
{
    private readonly Dictionary<ConvGraphProblem, ConvGraphPlan?> _graphPlans = [];
    private readonly List<string> _graphFallbacks = [];

    /// <summary>Execution plans built so far (problems no engine took are not counted).</summary>
    public int GraphPlanCount => _graphPlans.Values.Count(p => p is not null);
    /// <summary>The logged line of every problem that went to the legacy API for want of an engine.</summary>
    public IReadOnlyList<string> GraphFallbacks => _graphFallbacks;

    /// <summary>
    /// Runs one convolution pass through the graph API: <paramref name="x"/>, <paramref name="w"/>
    /// and <paramref name="y"/> take the X, W, Y roles (dx, dw, dy in the backward passes). False,
    /// after logging why once per problem, when no engine takes the problem.
    /// </summary>
    public bool TryGraphConvolution(ConvGraphProblem p, DevicePtr x, DevicePtr w, DevicePtr y)
    {
        if (!_graphPlans.TryGetValue(p, out var plan))
        {
            plan = ConvGraphPlan.Build(NativeBackendApi.Instance, _handle, p, Options.WorkspaceLimitBytes, out var why);
            _graphPlans[p] = plan;
            if (plan is null)
            {
                var line = $"cuDNN graph API: no engine for {p} ({why?.ReplaceLineEndings(" ")}); using the legacy API";
                _graphFallbacks.Add(line);
                (Options.Log ?? Console.Error.WriteLine)(line);
            }
        }
        if (plan is null) return false;
        var (ws, _) = Workspace(plan.WorkspaceBytes);
        plan.Execute(_handle, x, w, y, ws, p.ToString());
        return true;
    }

    /// <summary>The executor's convolutions (NCHW float) through the graph API when the options select it.</summary>
    private bool GraphConvolution(ConvPass pass, ConvDescriptors d, DevicePtr x, DevicePtr w, DevicePtr y, float beta) =>
        Options.ConvApi == ConvApi.Graph
        && TryGraphConvolution(new ConvGraphProblem(pass, d.Shape, d.XSampleStride, GraphLayout.Nchw, GraphDataType.Float, beta,
            GraphTensor.AlignmentOf(x.Address), GraphTensor.AlignmentOf(w.Address), GraphTensor.AlignmentOf(y.Address), Options.Tf32, Options.Deterministic),
            x, w, y);

    private void DisposeGraphPlans()
    {
        foreach (var p in _graphPlans.Values) p?.Dispose();
        _graphPlans.Clear();
    }
}
