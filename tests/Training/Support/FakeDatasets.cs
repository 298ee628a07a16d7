using Engine.Data;
using Engine.Tensors;

namespace Engine.Tests.Training.Support;

/// <summary>
/// Learnable synthetic classification: class c's images are a fixed random pattern per class
/// plus noise (drawn from the per-call generator when augmenting). Indices listed in
/// <see cref="Bad"/> throw <see cref="BadSampleException"/>.
/// </summary>
internal sealed class PatternDataset(int count, int classes, Shape shape, ulong seed = 7) : IDataset
{
    private readonly float[][] _patterns = Enumerable.Range(0, classes).Select(c =>
    {
        var r = new Rng(seed * 1000 + (ulong)c);
        return Enumerable.Range(0, (int)shape.Numel).Select(_ => (float)r.NextNormal()).ToArray();
    }).ToArray();

    public string Name => "patterns";
    public TaskKind Task => TaskKind.Classification;
    public int Count { get; } = count;
    public int Classes { get; } = classes;
    public IReadOnlyList<string> ClassNames => Enumerable.Range(0, Classes).Select(c => $"class{c}").ToList();
    public Shape SampleShape { get; } = shape;
    public int IgnoreLabel => -1;
    public HashSet<int> Bad { get; init; } = [];
    public string Describe(int index) => $"pattern-{index}.png";

    public Sample Load(int index, Rng rng, bool augment)
    {
        if (Bad.Contains(index)) throw new BadSampleException(Describe(index), "corrupt data");
        int label = index % Classes;
        var noise = new Rng(seed ^ (ulong)index * 31);
        var img = _patterns[label].Select(v => v + 0.5f * (float)(augment ? rng.NextNormal() : noise.NextNormal())).ToArray();
        return new Sample(img, label, null);
    }
}

/// <summary>Synthetic segmentation: the label of a pixel is which channel is brightest there; ignore label -1 at the corners.</summary>
internal sealed class BrightestChannelDataset(int count, int classes, int size) : IDataset
{
    public string Name => "brightest";
    public TaskKind Task => TaskKind.Segmentation;
    public int Count { get; } = count;
    public int Classes { get; } = classes;
    public IReadOnlyList<string> ClassNames => Enumerable.Range(0, Classes).Select(c => $"c{c}").ToList();
    public Shape SampleShape => new(Classes, size, size);
    public int IgnoreLabel => -1;
    public string Describe(int index) => $"seg-{index}";

    public Sample Load(int index, Rng rng, bool augment)
    {
        var r = new Rng((ulong)index + 99);
        int plane = size * size;
        var img = new float[Classes * plane];
        for (int i = 0; i < img.Length; i++) img[i] = (float)r.NextDouble();
        var mask = new int[plane];
        for (int p = 0; p < plane; p++)
        {
            int best = 0;
            for (int c = 1; c < Classes; c++) if (img[c * plane + p] > img[best * plane + p]) best = c;
            mask[p] = best;
        }
        mask[0] = -1;
        return new Sample(img, 0, mask);
    }
}
