using Engine.Tensors;

namespace Engine.Data;

public enum TaskKind { Classification, Segmentation }

/// <summary>One decoded, augmented example: a CHW float image, and a class label or an HxW mask.</summary>
public sealed record Sample(float[] Image, int Label, int[]? Mask);

/// <summary>
/// A source of examples. <see cref="Load"/> decodes and augments one example; it is called
/// from several threads at once with per-call generators, so implementations keep no mutable
/// shared state. An unreadable file throws <see cref="BadSampleException"/>; the loader skips it.
/// </summary>
public interface IDataset
{
    string Name { get; }
    TaskKind Task { get; }
    int Count { get; }
    int Classes { get; }
    /// <summary>Class names, index = label.</summary>
    IReadOnlyList<string> ClassNames { get; }
    /// <summary>Shape of every produced image, CxHxW.</summary>
    Shape SampleShape { get; }
    /// <summary>Label value that counts as "ignore" in masks (VOC's 255), or -1.</summary>
    int IgnoreLabel { get; }
    /// <summary>Source of example <paramref name="index"/> (file path or description) for logs.</summary>
    string Describe(int index);
    Sample Load(int index, Rng rng, bool augment);

    /// <summary>
    /// Like <see cref="Load"/>, but writes straight into the caller's slices of a batch buffer:
    /// <paramref name="image"/> holds C*H*W floats, <paramref name="mask"/> H*W labels for
    /// segmentation (empty for classification). Returns the class label (-1 for segmentation).
    /// The default goes through <see cref="Load"/>; datasets override it to avoid the copy.
    /// </summary>
    int LoadInto(int index, Rng rng, bool augment, Span<float> image, Span<int> mask)
    {
        var s = Load(index, rng, augment);
        if (s.Image.Length != image.Length)
            throw new InvalidOperationException($"{Name}: example {index} has {s.Image.Length} values, expected {SampleShape} = {image.Length}");
        s.Image.CopyTo(image);
        if (!mask.IsEmpty)
        {
            if (s.Mask is null || s.Mask.Length != mask.Length)
                throw new InvalidOperationException($"{Name}: example {index} has no {mask.Length}-pixel mask");
            s.Mask.CopyTo(mask);
        }
        return s.Label;
    }
}

/// <summary>An example that cannot be read; carries the file and the reason, for the run's log.</summary>
public sealed class BadSampleException(string source, string reason) : Exception($"{source}: {reason}")
{
    public string File { get; } = source;
    public string Reason { get; } = reason;
}
