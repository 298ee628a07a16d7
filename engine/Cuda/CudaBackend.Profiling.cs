using Engine.Graph;

namespace Engine.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Events on this backend's stream: node times without a synchronisation per node.</summary>
    public override Timeline CreateTimeline()
    {
        Device.MakeCurrent();
        return new CudaTimeline(this);
    }
}
