namespace Engine.Graph;

public abstract partial class Backend
{
    /// <summary>
    /// A timeline of this backend's work (for <see cref="StepProfiler"/>). The default times on the
    /// host, right for backends whose calls finish their work before returning; asynchronous
    /// backends override it (CUDA: events on the stream).
    /// </summary>
    public virtual Timeline CreateTimeline() => new HostTimeline();
}
