using Engine.Data.Datasets;
using Engine.Tensors;

namespace Engine.Tests.Data;

public class SyntheticDatasetTests
{
    [Test]
    public void Shapes_are_deterministic_per_seed_and_index()
    {
        var a = new SyntheticShapesDataset(50, 16, seed: 3);
        var b = new SyntheticShapesDataset(50, 16, seed: 3);
        var c = new SyntheticShapesDataset(50, 16, seed: 4);
        Assert.That(b.Load(7, new Rng(0), false).Image, Is.EqualTo(a.Load(7, new Rng(99), false).Image), "without augmentation the generator does not matter");
        Assert.That(a.Load(8, new Rng(0), false).Image, Is.Not.EqualTo(a.Load(7, new Rng(0), false).Image));
        Assert.That(c.Load(7, new Rng(0), false).Image, Is.Not.EqualTo(a.Load(7, new Rng(0), false).Image));
    }

    [Test]
    public void Shapes_have_balanced_labels_and_unit_range_pixels()
    {
        var ds = new SyntheticShapesDataset(100, 16);
        var counts = new int[10];
        for (int i = 0; i < ds.Count; i++)
        {
            var s = ds.Load(i, new Rng(1), true);
            counts[s.Label]++;
            Assert.That(s.Image, Is.All.InRange(0f, 1f));
        }
        Assert.That(counts, Is.All.EqualTo(10));
        Assert.That(ds.ClassNames[0], Is.EqualTo("circle"));
    }

    [Test]
    public void Classes_differ_in_mean_colour_more_than_examples_of_one_class()
    {
        // a cheap learnability check: nearest class-mean colour already beats chance by far
        var ds = new SyntheticShapesDataset(400, 16);
        var means = new double[10, 3];
        var features = new double[ds.Count][];
        for (int i = 0; i < ds.Count; i++)
        {
            var s = ds.Load(i, new Rng(1), false);
            features[i] = Enumerable.Range(0, 3).Select(c => (double)s.Image.Skip(c * 256).Take(256).Max()).ToArray();
            for (int c = 0; c < 3; c++) means[i % 10, c] += features[i][c] / 40;
        }
        int correct = 0;
        for (int i = 0; i < ds.Count; i++)
        {
            int best = Enumerable.Range(0, 10).MinBy(k => Enumerable.Range(0, 3).Sum(c => Math.Pow(features[i][c] - means[k, c], 2)));
            if (best == i % 10) correct++;
        }
        Assert.That(correct / 400.0, Is.GreaterThan(0.3), "chance is 0.1");
    }

    [Test]
    public void Segmentation_masks_match_the_painted_shapes_and_flip_with_the_image()
    {
        var ds = new SyntheticSegmentationDataset(30, 32, seed: 5, shapeClasses: 4);
        Assert.That(ds.Classes, Is.EqualTo(5));
        for (int i = 0; i < ds.Count; i++)
        {
            var plain = ds.Load(i, new Rng(1), false);
            Assert.That(plain.Mask, Is.All.InRange(0, 4));
            Assert.That(plain.Mask!.Any(v => v > 0), $"example {i} shows at least one shape");
            var flipped = FindFlipped(ds, i, plain);
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                {
                    Assert.That(flipped.Mask![y * 32 + x], Is.EqualTo(plain.Mask![y * 32 + 31 - x]));
                    Assert.That(flipped.Image[y * 32 + x], Is.EqualTo(plain.Image[y * 32 + 31 - x]));
                }
        }
    }

    private static Engine.Data.Sample FindFlipped(SyntheticSegmentationDataset ds, int i, Engine.Data.Sample plain)
    {
        for (ulong seed = 0; seed < 64; seed++)
        {
            var s = ds.Load(i, new Rng(seed), true);
            if (!s.Mask!.SequenceEqual(plain.Mask!) || !s.Image.SequenceEqual(plain.Image)) return s;
        }
        Assert.Fail("no seed flipped the example");
        return plain;
    }
}
