using Engine.Data;
using Engine.Data.Datasets;
using Engine.Data.Transforms;

namespace Engine.Tests.Data;

public class SubsetDatasetTests
{
    [Test]
    public void Each_class_of_a_class_folder_keeps_its_share_the_same_for_the_same_seed()
    {
        using var dir = new TempDir();
        foreach (var (cls, count) in new[] { ("a", 10), ("b", 20), ("c", 3) })
            for (int i = 0; i < count; i++) dir.File($"{cls}/{i:D2}.jpg", TestImages.GradientJpeg(8, 8));
        var all = ImageFolderDataset.Scan(dir.Path, new ResizeRecipe(8, 8));
        var tenth = SubsetDataset.Fraction(all, 0.1, seed: 7);
        var perClass = Enumerable.Range(0, tenth.Count).GroupBy(i => Path.GetFileName(Path.GetDirectoryName(tenth.Describe(i))!)).ToDictionary(g => g.Key, g => g.Count());
        Assert.That(perClass, Is.EquivalentTo(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 1 }), "a tenth of each class, at least one");
        Assert.That(tenth.Name, Does.Contain("training fraction 0.1: 4 of 33"));

        var again = SubsetDataset.Fraction(all, 0.1, seed: 7);
        var other = SubsetDataset.Fraction(all, 0.5, seed: 8);
        string[] Files(IDataset d) => Enumerable.Range(0, d.Count).Select(d.Describe).ToArray();
        Assert.That(Files(again), Is.EqualTo(Files(tenth)));
        Assert.That(Files(tenth), Is.Ordered.Using<string>(StringComparer.Ordinal), "original order");
        Assert.That(other.Count, Is.EqualTo(5 + 10 + 2));
        Assert.That(SubsetDataset.Fraction(all, 1, seed: 7), Is.SameAs(all));
        Assert.That(() => SubsetDataset.Fraction(all, 0, seed: 7), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void A_segmentation_set_keeps_a_share_of_its_examples_which_load_as_the_originals()
    {
        var (train, _) = SyntheticSegmentationDataset.Split(30, 5, 16, 3);
        var third = SubsetDataset.Fraction(train, 1.0 / 3, seed: 1);
        Assert.That(third.Count, Is.EqualTo(10));
        var picked = Enumerable.Range(0, train.Count).Where(i => Enumerable.Range(0, third.Count).Any(j => third.Describe(j) == train.Describe(i))).First();
        var mine = third.Load(0, new Engine.Tensors.Rng(1), false);
        var theirs = train.Load(picked, new Engine.Tensors.Rng(1), false);
        Assert.That(mine.Mask, Is.EqualTo(theirs.Mask));
        Assert.That(mine.Image, Is.EqualTo(theirs.Image));
    }
}
