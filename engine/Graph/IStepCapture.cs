namespace Engine.Graph;

/// <summary>
/// A backend that can record the device work of one training step once and replay it with one
/// launch per step (CUDA graphs). What the step reads that changes from step to step must then
/// lie in device memory at fixed addresses and be written before each launch: the batch (the
/// executor's input slices), the step counter (<see cref="NodeRun.StepScalar"/>) and the
/// optimizer's scalars; the step itself may not wait for the device or read from it.
/// </summary>
public interface IStepCapture
{
    /// <summary>
    /// Runs <paramref name="step"/> while the backend records its work instead of running it, so
    /// nothing of the step has run when this returns: launch the graph for that. Null, with a
    /// one-line <paramref name="reason"/>, when the step cannot be captured; the backend then works
    /// eagerly as before (the host-side effects of the attempt are the caller's to repeat or undo).
    /// </summary>
    IStepGraph? TryCapture(Action step, out string reason);
}

/// <summary>A recorded step.</summary>
public interface IStepGraph : IDisposable
{
    /// <summary>
    /// Queues the recorded work once, in order with the backend's other work; false (nothing
    /// queued) when memory the graph may use was given back since the capture, so its addresses
    /// may now belong to something else: capture again.
    /// </summary>
    bool TryLaunch();
}
