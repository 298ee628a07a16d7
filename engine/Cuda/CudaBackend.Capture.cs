using Engine.Cuda.Native;
using Engine.Graph;

namespace Engine.Cuda;

/// <summary>
/// CUDA-graph capture of a training step (<see cref="IStepCapture"/>). The capture runs in global
/// mode, so any call that would wait for the device (a download, a synchronisation) fails it; so
/// do allocations and frees during the step, since the graph keeps the addresses it saw. Deferred
/// checks queued in the step (bad-label flags) are copied by the graph at each replay and examined
/// at the next synchronisation, as in an eager step.
/// </summary>
public sealed partial class CudaBackend : IStepCapture
{
    private List<DeferredCheck>? _capturedChecks;

    /// <summary>Whether a step is being captured now.</summary>
    public bool Capturing => _capturedChecks is not null;

    public IStepGraph? TryCapture(Action step, out string reason)
    {
        if (Options.SyncDebug) { reason = "--sync-debug synchronises after every launch"; return null; }
        if (_hostFallbacks.Count > 0) { reason = $"ops run on the host (they read device memory): {string.Join(", ", _hostFallbacks.Keys)}"; return null; }
        Device.MakeCurrent();
        Synchronize();
        var (allocations, frees) = (Allocator.Allocations, Allocator.Frees);
        var fallbacks = _hostFallbacks.Count;
        _capturedChecks = [];
        string? failure = null;
        CudaGraph? graph = null;
        Stream.BeginCapture(Driver.CaptureModeGlobal);
        try
        {
            step();
        }
        catch (CudaException e)
        {
            failure = $"{e.Call} failed during the capture: {e.ErrorName}";
        }
        catch (HostCopyDuringCaptureException e)
        {
            failure = e.Message;
        }
        finally
        {
            try { graph = Stream.EndCapture(); }
            catch (CudaException e) { failure ??= $"the capture was invalidated ({e.ErrorName})"; }
        }
        var checks = _capturedChecks;
        _capturedChecks = null;
        if (failure is null && (Allocator.Allocations != allocations || Allocator.Frees != frees))
            failure = $"the step allocated or freed device memory ({Allocator.Allocations - allocations} allocations, {Allocator.Frees - frees} frees), so its addresses are not fixed";
        if (failure is null && _hostFallbacks.Count != fallbacks)
            failure = $"ops run on the host: {string.Join(", ", _hostFallbacks.Keys)}";
        if (failure is not null)
        {
            graph?.Dispose();
            reason = failure;
            return null;
        }
        reason = "";
        return new CudaStepGraph(this, graph!, checks, Allocator.Frees);
    }

    /// <summary>A copy between host and device inside a captured step would replay stale host memory, or wait for the device: refuse it by name.</summary>
    private void NoHostCopyWhileCapturing(string what)
    {
        if (Capturing)
            throw new HostCopyDuringCaptureException($"the step makes a host {what} (from {Caller()}), which a graph cannot replay: it would wait for the device or copy stale host memory");
    }

    /// <summary>The engine method outside the backend that asked for the copy (e.g. Executor.Download).</summary>
    private static string Caller()
    {
        foreach (var frame in new System.Diagnostics.StackTrace(false).GetFrames())
            if (frame.GetMethod() is { DeclaringType: { } t } m && t != typeof(CudaBackend) && t.Namespace?.StartsWith("Engine") == true)
                return $"{t.Name}.{m.Name}";
        return "?";
    }

    private sealed class HostCopyDuringCaptureException(string message) : Exception(message);

    /// <summary>Sets every float of <paramref name="s"/> to <paramref name="value"/> with a memset (capturable).</summary>
    public override void Fill(BufferSlice s, double value)
    {
        if (s.Type != Tensors.DataType.F32) throw new ArgumentException($"cannot fill a {s.Type} slice with a float");
        Device.MakeCurrent();
        Stream.Fill32(Ptr(s), BitConverter.SingleToUInt32Bits((float)value), s.Count);
    }

    /// <summary>After a replay: the graph copied these checks' flags again; examine them at the next synchronisation.</summary>
    internal void Requeue(IReadOnlyList<DeferredCheck> checks)
    {
        foreach (var c in checks)
        {
            if (!c.Pending) _checks.Add(c);
            c.MarkQueued();
        }
    }

    /// <param name="frees">The allocator's frees at the capture: any later one may have released a block the graph uses (a grown cuDNN workspace, a node's scratch).</param>
    private sealed class CudaStepGraph(CudaBackend backend, CudaGraph graph, List<DeferredCheck> checks, long frees) : IStepGraph
    {
        public bool TryLaunch()
        {
            if (backend.Allocator.Frees != frees) return false;
            backend.Device.MakeCurrent();
            graph.Launch(backend.Stream);
            backend.Requeue(checks);
            return true;
        }

        public void Dispose() => graph.Dispose();
    }
}
