using Engine.Tensors;

namespace Engine.Data.Datasets;

/// <summary>
/// The embedded default segmentation set: one to three shapes on a noisy gradient background,
/// drawn from (seed, index). Pixel label = the class of the topmost shape covering it, 0 for
/// background. The shape classes are the first <c>shapeClasses</c> of circle, square, triangle,
/// cross, ring, frame, each with its own hue band. Augmentation: the same random left-right
/// mirror of image and mask.
/// </summary>
public sealed class SyntheticSegmentationDataset : IDataset
{
    private static readonly ShapeKind[] Kinds = [ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle, ShapeKind.Cross, ShapeKind.Ring, ShapeKind.Frame];
    private readonly ulong _seed;
    private readonly int _size;
    private readonly string[] _classes;

    public SyntheticSegmentationDataset(int count = 2_000, int size = 64, ulong seed = 1, int shapeClasses = 4)
    {
        if (count <= 0) throw new ArgumentException($"synthetic dataset size {count} must be positive");
        if (size < 8) throw new ArgumentException($"synthetic image size {size} must be at least 8");
        if (shapeClasses < 1 || shapeClasses > Kinds.Length) throw new ArgumentException($"shape classes {shapeClasses} must be in 1..{Kinds.Length}");
        Count = count;
        _size = size;
        _seed = seed;
        _classes = ["background", .. Kinds.Take(shapeClasses).Select(k => k.ToString().ToLowerInvariant())];
    }

    public string Name => $"synthetic-segmentation (seed {_seed}, {Count} x {_size}x{_size}, {Classes} classes)";
    public TaskKind Task => TaskKind.Segmentation;
    public int Count { get; }
    public int Classes => _classes.Length;
    public IReadOnlyList<string> ClassNames => _classes;
    public Shape SampleShape => new(3, _size, _size);
    public int IgnoreLabel => -1;
    public string Describe(int index) => $"{Name} #{index}";

    public static (SyntheticSegmentationDataset Train, SyntheticSegmentationDataset Validation) Split(int trainCount, int validationCount, int size = 64, ulong seed = 1, int shapeClasses = 4)
        => (new(trainCount, size, seed, shapeClasses), new(validationCount, size, Rng.Mix(seed ^ 0x7A11DA7EUL), shapeClasses));

    public Sample Load(int index, Rng rng, bool augment)
    {
        var image = new float[SampleShape.Numel];
        var mask = new int[_size * _size];
        LoadInto(index, rng, augment, image, mask);
        return new Sample(image, -1, mask);
    }

    public int LoadInto(int index, Rng rng, bool augment, Span<float> image, Span<int> mask)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        if (mask.Length != _size * _size) throw new ArgumentException($"mask buffer holds {mask.Length} labels, expected {_size}x{_size}");
        var content = new Rng(Rng.Mix(_seed ^ Rng.Mix((ulong)index + 0x5E6AE7UL)));
        int shapeClasses = Classes - 1;
        ShapePainter.Gradient(image, _size,
            ShapePainter.Hsv(content.NextUniform(0, 360), content.NextUniform(0, 0.25), content.NextUniform(0.15, 0.5)),
            ShapePainter.Hsv(content.NextUniform(0, 360), content.NextUniform(0, 0.25), content.NextUniform(0.15, 0.5)));
        mask.Clear();
        int shapes = 1 + content.NextInt(3);
        for (int s = 0; s < shapes; s++)
        {
            int cls = 1 + content.NextInt(shapeClasses);
            var colour = ShapePainter.Hsv((cls - 1) * 360.0 / shapeClasses + content.NextUniform(-15, 15), content.NextUniform(0.6, 1), content.NextUniform(0.7, 1));
            var place = ShapePainter.RandomPlacement(Kinds[cls - 1], _size, content, 0.12, 0.3);
            ShapePainter.Paint(image, _size, place, colour, mask, cls);
        }
        ShapePainter.AddNoise(image, content, 8);
        if (augment && rng.NextDouble() < 0.5) ShapePainter.FlipHorizontal(image, 3, _size, mask);
        foreach (ref var v in image) v /= 255f;
        return -1;
    }
}
