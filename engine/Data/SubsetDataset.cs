using Engine.Data.Datasets;
using Engine.Tensors;

namespace Engine.Data;

/// <summary>
/// Some of a dataset's examples, in their original order (seed 004's "1/3, 1/10, 1/30 of the
/// training data"). <see cref="Fraction"/> chooses them deterministically from the seed: per class
/// for a class-folder set (each class keeps its share, at least one example), by example otherwise.
/// </summary>
public sealed class SubsetDataset : IDataset
{
    private readonly IDataset _inner;
    private readonly int[] _indices;

    public SubsetDataset(IDataset inner, int[] indices, string why)
    {
        _inner = inner;
        _indices = indices;
        Name = $"{inner.Name}, {why}: {indices.Length} of {inner.Count}";
    }

    /// <summary>A share <paramref name="fraction"/> (0 &lt; f &lt;= 1) of <paramref name="dataset"/>, the same for the same seed.</summary>
    public static IDataset Fraction(IDataset dataset, double fraction, ulong seed)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the training fraction must lie in (0, 1]");
        if (fraction == 1) return dataset;
        var groups = dataset is ImageFolderDataset folder
            ? Enumerable.Range(0, dataset.Count).GroupBy(folder.LabelOf).Select(g => g.ToArray())
            : [Enumerable.Range(0, dataset.Count).ToArray()];
        var rng = new Rng(seed ^ 0x5EED_0FD4_7A00UL);
        var kept = new List<int>();
        foreach (var group in groups)
        {
            var order = (int[])group.Clone();
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = rng.NextInt(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            kept.AddRange(order.Take(Math.Max(1, (int)Math.Round(fraction * order.Length))));
        }
        kept.Sort();
        return new SubsetDataset(dataset, [.. kept], $"training fraction {fraction:0.####}");
    }

    public string Name { get; }
    public TaskKind Task => _inner.Task;
    public int Count => _indices.Length;
    public int Classes => _inner.Classes;
    public IReadOnlyList<string> ClassNames => _inner.ClassNames;
    public Shape SampleShape => _inner.SampleShape;
    public int IgnoreLabel => _inner.IgnoreLabel;
    public string Describe(int index) => _inner.Describe(_indices[index]);
    public Sample Load(int index, Rng rng, bool augment) => _inner.Load(_indices[index], rng, augment);
    public int LoadInto(int index, Rng rng, bool augment, Span<float> image, Span<int> mask) => _inner.LoadInto(_indices[index], rng, augment, image, mask);
}
