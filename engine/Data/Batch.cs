namespace Engine.Data;

/// <summary>
/// A mini-batch: <see cref="Count"/> CHW float images back to back, and per image one label
/// (classification) or an HxW mask (segmentation), back to back. <see cref="Indices"/> are the
/// dataset examples behind each slot (after unreadable ones were replaced). The loader reuses
/// the memory: a batch it hands out is valid until the next one is requested.
/// </summary>
public sealed class Batch(ReadOnlyMemory<float> images, ReadOnlyMemory<int> labels, int count, ReadOnlyMemory<int> indices,
    int epoch = 0, int index = 0, bool lastInEpoch = false, Engine.Tensors.Layout layout = Engine.Tensors.Layout.Nchw)
{
    /// <summary>Count*C*H*W floats, laid out as <see cref="Layout"/> says (NCHW unless the loader was asked for NHWC).</summary>
    public ReadOnlyMemory<float> Images { get; } = images;
    /// <summary>The layout of <see cref="Images"/>; pass it to <c>Executor.SetInput</c>.</summary>
    public Engine.Tensors.Layout Layout { get; } = layout;
    /// <summary>Classification: Count labels. Segmentation: Count*H*W mask labels.</summary>
    public ReadOnlyMemory<int> Labels { get; } = labels;
    /// <summary>Examples in this batch (smaller than the batch size only for a last, incomplete batch).</summary>
    public int Count { get; } = count;
    public ReadOnlyMemory<int> Indices { get; } = indices;
    public int Epoch { get; } = epoch;
    /// <summary>Position of the batch within its epoch.</summary>
    public int Index { get; } = index;
    public bool LastInEpoch { get; } = lastInEpoch;
}
