using Engine.Cuda;

namespace Engine.Ops;

/// <summary>
/// The softmax losses' GPU label check: a kernel writes a label outside [0, K) into a device slot
/// (initialised to the ignore label), read when the host next waits for the GPU, and raised then
/// as a <see cref="LabelOutOfRangeException"/> naming the node, the label and the class count.
/// </summary>
internal sealed class DeferredLabelCheck
{
    private readonly CudaNode _node;
    private readonly DeferredCheck _check;

    private DeferredLabelCheck(CudaNode node, int classes, int ignoreLabel)
    {
        _node = node;
        _check = node.Own(new DeferredCheck(label => label == ignoreLabel ? null
            : new LabelOutOfRangeException(
                $"{node.Node.Name}: label {label} is outside [0, {classes}) for {classes} classes and is not the ignore label {ignoreLabel}")));
    }

    /// <summary>The node's check, made on first use and kept in <see cref="CudaNode.Saved"/>.</summary>
    public static DeferredLabelCheck For(CudaNode n, int classes, int ignoreLabel) =>
        n.Saved as DeferredLabelCheck ?? (DeferredLabelCheck)(n.Saved = new DeferredLabelCheck(n, classes, ignoreLabel));

    public void Capture(DevicePtr badLabel) => _node.Backend.DeferCheck(_check, badLabel);
}
