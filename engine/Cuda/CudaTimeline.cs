using Engine.Graph;

namespace Engine.Cuda;

/// <summary>A timeline on a CUDA backend's stream: one timing event per point, recorded asynchronously, read after one synchronise.</summary>
internal sealed class CudaTimeline(CudaBackend backend) : Timeline
{
    private readonly List<CudaEvent> _events = [];

    public override void Mark(int slot)
    {
        backend.Device.MakeCurrent();
        while (_events.Count <= slot) _events.Add(new CudaEvent(timing: true));
        _events[slot].Record(backend.Stream);
    }

    public override void Wait() => backend.Synchronize();

    public override double ElapsedMs(int from, int to) => CudaEvent.ElapsedMs(_events[from], _events[to]);

    public override void Dispose()
    {
        backend.Device.MakeCurrent();
        foreach (var e in _events) e.Dispose();
        _events.Clear();
        base.Dispose();
    }
}
