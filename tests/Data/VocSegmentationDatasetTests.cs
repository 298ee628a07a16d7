using Engine.Data;
using Engine.Data.Codecs;
using Engine.Data.Datasets;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Tests.Data;

public class VocSegmentationDatasetTests
{
    /// <summary>A VOC tree of 16x12 images whose masks have class 1 on the left half, 255 on column 8, 0 elsewhere.</summary>
    private static string MakeTree(TempDir dir, string[] ids, Func<string, byte[]?>? maskOverride = null)
    {
        string root = Path.Combine(dir.Path, "VOCdevkit", "VOC2012");
        foreach (var id in ids)
        {
            dir.File($"VOCdevkit/VOC2012/JPEGImages/{id}.jpg", TestImages.GradientJpeg(16, 12));
            var labels = new byte[16 * 12];
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 16; x++) labels[y * 16 + x] = (byte)(x < 8 ? 1 : x == 8 ? 255 : 0);
            dir.File($"VOCdevkit/VOC2012/SegmentationClass/{id}.png", maskOverride?.Invoke(id) ?? PngCodec.EncodeIndexed(labels, 16, 12, TestImages.Palette(256)));
        }
        dir.File("VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt", System.Text.Encoding.UTF8.GetBytes(string.Join('\n', ids.Take(ids.Length - 1)) + "\n"));
        dir.File("VOCdevkit/VOC2012/ImageSets/Segmentation/val.txt", System.Text.Encoding.UTF8.GetBytes(ids[^1] + "\n"));
        return root;
    }

    [Test]
    public void Boundary_is_ignored_by_default()
    {
        using var dir = new TempDir();
        MakeTree(dir, ["2007_000032", "2007_000033"]);
        var ds = VocSegmentationDataset.Open(dir.Path, new VocOptions { Recipe = new ResizeRecipe(12, 16) });
        Assert.That(ds.Count, Is.EqualTo(1));
        Assert.That(ds.Classes, Is.EqualTo(21));
        Assert.That(ds.IgnoreLabel, Is.EqualTo(255));
        var s = ds.Load(0, new Rng(1), false);
        Assert.That(s.Mask![0], Is.EqualTo(1));
        Assert.That(s.Mask[8], Is.EqualTo(255));
        Assert.That(s.Mask[15], Is.EqualTo(0));
        Assert.That(s.Image, Has.Length.EqualTo(3 * 12 * 16));
    }

    [Test]
    public void Boundary_as_class_makes_22_classes_like_the_seed()
    {
        using var dir = new TempDir();
        var root = MakeTree(dir, ["a", "b"]);
        var ds = VocSegmentationDataset.Open(root, new VocOptions { Split = "val", Boundary = VocBoundary.AsClass, Recipe = new ResizeRecipe(12, 16) });
        Assert.That(ds.Classes, Is.EqualTo(22));
        Assert.That(ds.ClassNames[21], Is.EqualTo("boundary"));
        Assert.That(ds.IgnoreLabel, Is.EqualTo(-1));
        Assert.That(ds.Load(0, new Rng(1), false).Mask![8], Is.EqualTo(21));
    }

    [Test]
    public void The_lists_are_used_when_both_exist_else_the_seed_split_4_to_1_for_a_small_tree()
    {
        using var dir = new TempDir();
        MakeTree(dir, ["c", "a", "d", "b", "e"]);
        var request = new DataRequest { Source = dir.Path, ImageSize = 8 };
        var (train, val) = DataSources.Open(request);
        Assert.That((train.Count, val.Count), Is.EqualTo((4, 1)), "train.txt lists four, val.txt one");
        Assert.That(train.Name, Does.Not.Contain("seed split"));
        File.Delete(Path.Combine(dir.Path, "VOCdevkit", "VOC2012", "ImageSets", "Segmentation", "val.txt"));
        (train, val) = DataSources.Open(request);
        Assert.That(train.Name, Does.Contain("seed split"));
        Assert.That((train.Count, val.Count), Is.EqualTo((4, 1)), "five masks: the seed's 2,000 + 500 scaled to 4:1");
        Assert.That(((VocSegmentationDataset)val).Ids, Is.EqualTo(new[] { "e" }), "in file-name order");
        Assert.That(() => DataSources.Open(request with { VocSplit = VocSplit.Lists }), Throws.TypeOf<DatasetException>().With.Message.Contains("val.txt"));
    }

    [Test]
    public void Seed_split_takes_mask_files_in_name_order()
    {
        using var dir = new TempDir();
        MakeTree(dir, ["c", "a", "d", "b", "e"]);
        var train = VocSegmentationDataset.Open(dir.Path, new VocOptions { SeedSplit = true, SeedTrainCount = 3, SeedValCount = 1 });
        var val = VocSegmentationDataset.Open(dir.Path, new VocOptions { SeedSplit = true, Split = "val", SeedTrainCount = 3, SeedValCount = 1 });
        Assert.That(train.Ids, Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(val.Ids, Is.EqualTo(new[] { "d" }));
    }

    [Test]
    public void Flipped_training_crops_flip_the_mask_too()
    {
        using var dir = new TempDir();
        MakeTree(dir, ["a", "b"]);
        var ds = VocSegmentationDataset.Open(dir.Path, new VocOptions { Recipe = new ResizeRecipe(12, 16, flip: true) });
        bool sawFlip = false, sawPlain = false;
        for (ulong seed = 0; seed < 20; seed++)
        {
            var s = ds.Load(0, new Rng(seed), true);
            bool maskFlipped = s.Mask![15] == 1, imageFlipped = s.Image[15] < s.Image[0];   // red grows with x in the source
            Assert.That(imageFlipped, Is.EqualTo(maskFlipped));
            sawFlip |= maskFlipped;
            sawPlain |= !maskFlipped;
        }
        Assert.That(sawFlip && sawPlain);
    }

    [Test]
    public void Mask_problems_are_bad_samples_naming_the_file()
    {
        using var dir = new TempDir();
        MakeTree(dir, ["small", "garbage", "outside", "last"], id => id switch
        {
            "small" => PngCodec.EncodeIndexed(new byte[8 * 6], 8, 6, TestImages.Palette(2)),
            "garbage" => "not a png"u8.ToArray(),
            "outside" => PngCodec.EncodeIndexed(Enumerable.Repeat((byte)40, 16 * 12).ToArray(), 16, 12, TestImages.Palette(41)),
            _ => null,
        });
        var ds = VocSegmentationDataset.Open(dir.Path, new VocOptions { Recipe = new ResizeRecipe(8, 8) });
        var size = Assert.Throws<BadSampleException>(() => ds.Load(0, new Rng(1), false))!;
        Assert.That(size.Reason, Does.Contain("16x12").And.Contain("8x6"));
        var garbage = Assert.Throws<BadSampleException>(() => ds.Load(1, new Rng(1), false))!;
        Assert.That(garbage.File, Does.EndWith("garbage.png"));
        Assert.That(garbage.Reason, Does.Contain("unreadable mask"));
        var outside = Assert.Throws<BadSampleException>(() => ds.Load(2, new Rng(1), false))!;
        Assert.That(outside.Reason, Does.Contain("40"));
    }

    [Test]
    public void Class_names_come_from_classes_txt_when_present()
    {
        using var dir = new TempDir();
        MakeTree(dir, ["a", "b"]);
        dir.File("VOCdevkit/VOC2012/classes.txt", "background\none\ntwo\n"u8.ToArray());
        var ds = VocSegmentationDataset.Open(dir.Path);
        Assert.That(ds.ClassNames, Is.EqualTo(new[] { "background", "one", "two" }));
        Assert.That(ds.SampleShape, Is.EqualTo(new Shape(3, 64, 64)));
    }

    [Test]
    public void Not_a_voc_tree_is_one_clear_error()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<DatasetException>(() => VocSegmentationDataset.Open(dir.Path));
        Assert.That(ex!.Message, Does.Contain("JPEGImages"));
    }
}
