namespace Engine.Graph;

/// <summary>Which pass of a node the executor is running.</summary>
public enum Pass { Forward, Backward }

/// <summary>
/// Told by the <see cref="Executor"/> when each node's forward or backward pass starts and ends
/// (on the host, in issue order: a GPU backend has only queued the work by then). See
/// <see cref="StepProfiler"/>, which turns these calls into per-node times.
/// </summary>
public interface INodeProfiler
{
    void Begin(Node node, Pass pass);
    void End(Node node, Pass pass);
    /// <summary>Work outside the nodes' passes, e.g. "recompute" (outputs written again before backward reads them).</summary>
    void BeginSection(string name) { }
    void EndSection(string name) { }
}
