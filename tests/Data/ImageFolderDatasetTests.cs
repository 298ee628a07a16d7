using Engine.Data;
using Engine.Data.Codecs;
using Engine.Data.Datasets;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Tests.Data;

public class ImageFolderDatasetTests
{
    private static readonly ImageRecipe Recipe = new ResizeRecipe(16, 16);

    [Test]
    public void Classes_are_sorted_folder_names_and_labels_follow_them()
    {
        using var dir = new TempDir();
        dir.File("n02/a.jpg", TestImages.GradientJpeg(20, 20));
        dir.File("n01/b.png", PngCodec.EncodeRgb(TestImages.Gradient(20, 20), 20, 20));
        dir.File("n01/c.jpg", TestImages.GradientJpeg(30, 20));
        dir.File("n01/.hidden", [1, 2, 3]);
        var ds = ImageFolderDataset.Scan(dir.Path, Recipe);
        Assert.That(ds.ClassNames, Is.EqualTo(new[] { "n01", "n02" }));
        Assert.That(ds.Count, Is.EqualTo(3), "hidden files are not examples");
        Assert.That(Enumerable.Range(0, 3).Select(ds.LabelOf), Is.EqualTo(new[] { 0, 0, 1 }));
        var sample = ds.Load(2, new Rng(1), augment: true);
        Assert.That(sample.Label, Is.EqualTo(1));
        Assert.That(sample.Image, Has.Length.EqualTo(3 * 16 * 16));
        Assert.That(ds.SampleShape, Is.EqualTo(new Shape(3, 16, 16)));
    }

    [Test]
    public void A_file_is_decoded_by_content_whatever_its_extension()
    {
        using var dir = new TempDir();
        dir.File("cat/really-a-jpeg.png", TestImages.GradientJpeg(24, 24));
        dir.File("cat/really-a-png.jpg", PngCodec.EncodeRgb(TestImages.Gradient(24, 24), 24, 24));
        var ds = ImageFolderDataset.Scan(dir.Path, Recipe);
        var a = ds.Load(0, new Rng(1), false).Image;
        var b = ds.Load(1, new Rng(1), false).Image;
        for (int i = 0; i < a.Length; i++) Assert.That(a[i], Is.EqualTo(b[i]).Within(10 / 255f));
    }

    [TestCase("empty.jpg", "empty file")]
    [TestCase("notes.txt", "not a JPEG or PNG")]
    [TestCase("truncated.jpg", "JPEG")]
    [TestCase("truncated.png", "PNG")]
    public void Each_kind_of_bad_file_throws_BadSampleException_with_its_reason(string name, string reason)
    {
        using var dir = new TempDir();
        var jpeg = TestImages.GradientJpeg(64, 64);
        var png = PngCodec.EncodeRgb(TestImages.Gradient(64, 64), 64, 64);
        byte[] contents = name switch
        {
            "empty.jpg" => [],
            "notes.txt" => "just some text"u8.ToArray(),
            "truncated.jpg" => jpeg[..(jpeg.Length / 2)],
            _ => png[..(png.Length / 2)],
        };
        var path = dir.File("c/" + name, contents);
        var ds = ImageFolderDataset.Scan(dir.Path, Recipe);
        var ex = Assert.Throws<BadSampleException>(() => ds.Load(0, new Rng(1), true));
        Assert.That(ex!.File, Is.EqualTo(path));
        Assert.That(ex.Reason, Does.Contain(reason));
    }

    [Test]
    public void A_vanished_file_is_a_bad_sample_not_a_crash()
    {
        using var dir = new TempDir();
        var path = dir.File("c/x.jpg", TestImages.GradientJpeg(8, 8));
        var ds = ImageFolderDataset.Scan(dir.Path, Recipe);
        File.Delete(path);
        var ex = Assert.Throws<BadSampleException>(() => ds.Load(0, new Rng(1), true));
        Assert.That(ex!.Reason, Does.Contain("cannot read"));
    }

    [Test]
    public void Unusable_folders_give_one_clear_error()
    {
        using var dir = new TempDir();
        Assert.That(Assert.Throws<DatasetException>(() => ImageFolderDataset.Scan(Path.Combine(dir.Path, "nope"), Recipe))!.Message, Does.Contain("does not exist"));
        Assert.That(Assert.Throws<DatasetException>(() => ImageFolderDataset.Scan(dir.Path, Recipe))!.Message, Does.Contain("no class sub-folders"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "empty-class"));
        Assert.That(Assert.Throws<DatasetException>(() => ImageFolderDataset.Scan(dir.Path, Recipe))!.Message, Does.Contain("no files"));
    }

    [Test]
    public void Validation_folder_uses_the_training_classes()
    {
        using var dir = new TempDir();
        var jpeg = TestImages.GradientJpeg(8, 8);
        dir.File("train/a/1.jpg", jpeg);
        dir.File("train/b/1.jpg", jpeg);
        dir.File("val/b/1.jpg", jpeg);
        var (train, val) = ImageFolderDataset.Open(Path.Combine(dir.Path, "train"), Path.Combine(dir.Path, "val"), 0, Recipe);
        Assert.That(val.ClassNames, Is.EqualTo(train.ClassNames));
        Assert.That(val.LabelOf(0), Is.EqualTo(1), "b is class 1 of the training set even though val has only b");
        dir.File("val/zebra/1.jpg", jpeg);
        var ex = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(Path.Combine(dir.Path, "train"), Path.Combine(dir.Path, "val"), 0, Recipe));
        Assert.That(ex!.Message, Does.Contain("zebra"));
    }

    [Test]
    public void Fractional_split_is_deterministic_disjoint_and_per_class()
    {
        using var dir = new TempDir();
        var jpeg = TestImages.GradientJpeg(8, 8);
        for (int i = 0; i < 20; i++) { dir.File($"a/{i:D2}.jpg", jpeg); dir.File($"b/{i:D2}.jpg", jpeg); }
        var (train, val) = ImageFolderDataset.Open(dir.Path, null, 0.25, Recipe);
        var (train2, val2) = ImageFolderDataset.Open(dir.Path, null, 0.25, Recipe);
        var valFiles = Enumerable.Range(0, val.Count).Select(val.Describe).ToArray();
        var trainFiles = Enumerable.Range(0, train.Count).Select(train.Describe).ToArray();
        Assert.That(valFiles, Has.Length.EqualTo(10));
        Assert.That(Enumerable.Range(0, val.Count).Count(i => val.LabelOf(i) == 0), Is.EqualTo(5));
        Assert.That(trainFiles.Intersect(valFiles), Is.Empty);
        Assert.That(Enumerable.Range(0, val2.Count).Select(val2.Describe), Is.EqualTo(valFiles));
        Assert.That(train2.Count, Is.EqualTo(30));
    }
}
