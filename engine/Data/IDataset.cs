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
}

/// <summary>An example that cannot be read; carries the file and the reason, for the run's log.</summary>
public sealed class BadSampleException(string source, string reason) : Exception($"{source}: {reason}")
{
    public string File { get; } = source;
    public string Reason { get; } = reason;
}
