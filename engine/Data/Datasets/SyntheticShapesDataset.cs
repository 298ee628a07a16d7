using Engine.Tensors;

namespace Engine.Data.Datasets;

/// <summary>
/// The embedded default classification set: no files, every example drawn from (seed, index).
/// Ten classes, one per <see cref="ShapeKind"/> (circle, square, triangle, ring, cross, frame,
/// horizontal, vertical and diagonal stripes, checkerboard), each with its own hue band (+-12
/// degrees) on a dark, unsaturated background with Gaussian noise, at a random place, size and
/// angle. Colour and shape both carry the class, so a small CNN learns it in an epoch or two.
/// Labels cycle through the classes (index mod 10), so every class has the same count.
/// Augmentation: a random left-right mirror.
/// </summary>
public sealed class SyntheticShapesDataset : IDataset
{
    private static readonly string[] Names = Enum.GetNames<ShapeKind>().Select(n => n.ToLowerInvariant()).ToArray();
    private readonly ulong _seed;
    private readonly int _size;

    public SyntheticShapesDataset(int count = 10_000, int size = 32, ulong seed = 1)
    {
        if (count <= 0) throw new ArgumentException($"synthetic dataset size {count} must be positive");
        if (size < 8) throw new ArgumentException($"synthetic image size {size} must be at least 8");
        Count = count;
        _size = size;
        _seed = seed;
    }

    public string Name => $"synthetic-shapes (seed {_seed}, {Count} x {_size}x{_size})";
    public TaskKind Task => TaskKind.Classification;
    public int Count { get; }
    public int Classes => Names.Length;
    public IReadOnlyList<string> ClassNames => Names;
    public Shape SampleShape => new(3, _size, _size);
    public int IgnoreLabel => -1;
    public string Describe(int index) => $"{Name} #{index}";

    /// <summary>A training and a validation set with unrelated contents (different seeds).</summary>
    public static (SyntheticShapesDataset Train, SyntheticShapesDataset Validation) Split(int trainCount, int validationCount, int size = 32, ulong seed = 1)
        => (new(trainCount, size, seed), new(validationCount, size, Rng.Mix(seed ^ 0x7A11DA7EUL)));

    public Sample Load(int index, Rng rng, bool augment)
    {
        var image = new float[SampleShape.Numel];
        int label = LoadInto(index, rng, augment, image, default);
        return new Sample(image, label, null);
    }

    public int LoadInto(int index, Rng rng, bool augment, Span<float> image, Span<int> mask)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        int label = index % Classes;
        var content = new Rng(Rng.Mix(_seed ^ Rng.Mix((ulong)index + 0x51A7E5UL)));
        var background = ShapePainter.Hsv(content.NextUniform(0, 360), content.NextUniform(0, 0.3), content.NextUniform(0.1, 0.45));
        ShapePainter.Gradient(image, _size, background, ShapePainter.Hsv(content.NextUniform(0, 360), content.NextUniform(0, 0.3), content.NextUniform(0.1, 0.45)));
        var colour = ShapePainter.Hsv(label * 36 + content.NextUniform(-12, 12), content.NextUniform(0.6, 1), content.NextUniform(0.7, 1));
        var place = ShapePainter.RandomPlacement((ShapeKind)label, _size, content, 0.25, 0.45);
        ShapePainter.Paint(image, _size, place, colour);
        ShapePainter.AddNoise(image, content, 10);
        if (augment && rng.NextDouble() < 0.5) ShapePainter.FlipHorizontal(image, 3, _size, default);
        foreach (ref var v in image) v /= 255f;
        return label;
    }
}
