using Engine.Data;
using Engine.Data.Codecs;
using Engine.Data.Datasets;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Tests.Data;

public class AdeSegmentationDatasetTests
{
    /// <summary>An ADEChallengeData2016 tree of 24x16 images; masks: column 0 is 0 (other), columns 1..11 class 1, the rest class 150.</summary>
    internal static string MakeTree(string parent, int training = 2, int validation = 1, byte[]? firstMask = null)
    {
        string root = Path.Combine(parent, "ADEChallengeData2016");
        var labels = new byte[24 * 16];
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 24; x++) labels[y * 24 + x] = (byte)(x == 0 ? 0 : x < 12 ? 1 : 150);
        var mask = PngCodec.EncodeGray(labels, 24, 16);
        foreach (var (split, count) in new[] { ("training", training), ("validation", validation) })
            for (int i = 0; i < count; i++)
            {
                string id = $"ADE_{(split == "training" ? "train" : "val")}_{i + 1:D8}";
                Write(Path.Combine(root, "images", split, id + ".jpg"), TestImages.GradientJpeg(24, 16));
                Write(Path.Combine(root, "annotations", split, id + ".png"), i == 0 && firstMask is not null ? firstMask : mask);
            }
        return root;
    }

    private static void Write(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    [Test]
    public void Label_0_is_the_seeds_other_class_by_default_and_the_input_is_480_by_320()
    {
        using var dir = new TempDir();
        MakeTree(dir.Path);
        var ds = AdeSegmentationDataset.Open(dir.Path);
        Assert.That(ds.Count, Is.EqualTo(2));
        Assert.That(ds.Classes, Is.EqualTo(151));
        Assert.That(ds.ClassNames[0], Is.EqualTo("other"));
        Assert.That(ds.IgnoreLabel, Is.EqualTo(-1));
        Assert.That(ds.SampleShape, Is.EqualTo(new Shape(3, 320, 480)));
        var small = AdeSegmentationDataset.Open(dir.Path, new AdeOptions { Recipe = new ResizeRecipe(16, 24) });
        var mask = small.Load(0, new Rng(1), false).Mask!;
        Assert.That((mask[0], mask[5], mask[23]), Is.EqualTo((0, 1, 150)));
    }

    [Test]
    public void Ignoring_other_gives_150_classes_numbered_from_0()
    {
        using var dir = new TempDir();
        MakeTree(dir.Path);
        var ds = AdeSegmentationDataset.Open(dir.Path, new AdeOptions { Split = "validation", Other = AdeOther.Ignore, Recipe = new ResizeRecipe(16, 24) });
        Assert.That(ds.Count, Is.EqualTo(1));
        Assert.That(ds.Classes, Is.EqualTo(150));
        Assert.That(ds.IgnoreLabel, Is.EqualTo(255));
        var mask = ds.Load(0, new Rng(1), false).Mask!;
        Assert.That((mask[0], mask[5], mask[23]), Is.EqualTo((255, 0, 149)));
    }

    [Test]
    public void Class_names_come_from_object_info_150_when_present()
    {
        using var dir = new TempDir();
        var root = MakeTree(dir.Path);
        var lines = new[] { "Idx,Ratio,Train,Val,Name" }.Concat(Enumerable.Range(1, 150).Select(i => $"{i},0.01,10,1,name{i};synonym")).ToArray();
        File.WriteAllLines(Path.Combine(root, "objectInfo150.csv"), lines);
        var ds = AdeSegmentationDataset.Open(root);
        Assert.That(ds.ClassNames[1], Is.EqualTo("name1"));
        Assert.That(ds.ClassNames[150], Is.EqualTo("name150"));
        File.WriteAllLines(Path.Combine(root, "objectInfo150.csv"), lines.Take(10));
        Assert.That(() => AdeSegmentationDataset.Open(root), Throws.TypeOf<DatasetException>().With.Message.Contains("expected 150 class lines, found 9"));
    }

    [Test]
    public void A_mask_value_above_150_names_the_file_and_a_mask_without_its_image_is_refused()
    {
        using var dir = new TempDir();
        var bad = PngCodec.EncodeGray(Enumerable.Repeat((byte)151, 24 * 16).ToArray(), 24, 16);
        var root = MakeTree(dir.Path, firstMask: bad);
        var ds = AdeSegmentationDataset.Open(root, new AdeOptions { Recipe = new ResizeRecipe(16, 24) });
        var ex = Assert.Throws<BadSampleException>(() => ds.Load(0, new Rng(1), false));
        Assert.That(ex!.Message, Does.Contain("ADE_train_00000001.png").And.Contain("mask value 151 is not an ADE20K label"));
        File.Delete(Path.Combine(root, "images", "training", "ADE_train_00000002.jpg"));
        Assert.That(() => AdeSegmentationDataset.Open(root), Throws.TypeOf<DatasetException>().With.Message.Contains("ADE_train_00000002.jpg"));
    }

    [Test]
    public void The_data_sources_detect_an_ade_tree_at_its_parent_folder_at_any_output_size()
    {
        using var dir = new TempDir();
        MakeTree(dir.Path);
        var (train, val) = DataSources.Open(new DataRequest { Source = dir.Path, ImageSize = 32, ImageWidth = 48 });
        Assert.That(train, Is.TypeOf<AdeSegmentationDataset>());
        Assert.That((train.Count, val.Count), Is.EqualTo((2, 1)));
        Assert.That(train.SampleShape, Is.EqualTo(new Shape(3, 32, 48)));
    }
}
