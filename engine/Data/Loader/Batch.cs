using Engine.Tensors;

namespace Engine.Data.Loader;

/// <summary>
/// One batch handed out by <see cref="DataLoader.Next"/>. Its buffers belong to the loader and are
/// reused: the contents stay valid until the next call to Next.
/// </summary>
public sealed class Batch
{
    internal Batch(int epoch, int index, int count, bool lastInEpoch, Shape sampleShape, Memory<float> images, Memory<int> targets, ReadOnlyMemory<int> indices)
    {
        Epoch = epoch;
        Index = index;
        Count = count;
        LastInEpoch = lastInEpoch;
        ImageShape = sampleShape.Prepend(count);
        Images = images;
        Targets = targets;
        DatasetIndices = indices;
    }

    public int Epoch { get; }
    /// <summary>Position of the batch within its epoch.</summary>
    public int Index { get; }
    /// <summary>Examples in this batch (smaller than the batch size only for a last, incomplete batch).</summary>
    public int Count { get; }
    public bool LastInEpoch { get; }
    /// <summary>N x C x H x W.</summary>
    public Shape ImageShape { get; }
    /// <summary>Count*C*H*W floats, NCHW.</summary>
    public Memory<float> Images { get; }
    /// <summary>Classification: Count labels. Segmentation: Count*H*W mask labels.</summary>
    public Memory<int> Targets { get; }
    /// <summary>The dataset example behind each slot (after unreadable ones were replaced).</summary>
    public ReadOnlyMemory<int> DatasetIndices { get; }
}
