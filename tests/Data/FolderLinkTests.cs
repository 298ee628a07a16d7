using Engine.Data.Datasets;
using Engine.Data.Transforms;

namespace Engine.Tests.Data;

/// <summary>Directory links inside an image-folder tree: loops and links to other classes add nothing; an outside folder is read once.</summary>
public class FolderLinkTests
{
    private static readonly ImageRecipe Recipe = new ResizeRecipe(8, 8);

    [Test]
    public void A_link_loop_or_a_link_to_another_class_adds_no_examples()
    {
        using var dir = new TempDir();
        var jpeg = TestImages.GradientJpeg(8, 8);
        dir.File("cat/1.jpg", jpeg);
        dir.File("cat/sub/2.jpg", jpeg);
        dir.File("dog/3.jpg", jpeg);
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "cat", "sub", "up"), Path.Combine(dir.Path, "cat"));
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "cat", "root"), dir.Path);
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "cat", "dogs"), Path.Combine(dir.Path, "dog"));
        var ds = ImageFolderDataset.Scan(dir.Path, Recipe);
        var seen = Enumerable.Range(0, ds.Count).Select(i => (Path.GetFileName(ds.Describe(i)), ds.ClassNames[ds.LabelOf(i)])).ToArray();
        Assert.That(seen, Is.EquivalentTo(new[] { ("1.jpg", "cat"), ("2.jpg", "cat"), ("3.jpg", "dog") }));
    }

    [Test]
    public void A_folder_outside_the_tree_reached_through_two_links_is_read_once()
    {
        using var dir = new TempDir();
        var jpeg = TestImages.GradientJpeg(8, 8);
        dir.File("outside/x.jpg", jpeg);
        dir.File("tree/cat/1.jpg", jpeg);
        dir.File("tree/dog/2.jpg", jpeg);
        var outside = Path.Combine(dir.Path, "outside");
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "tree", "cat", "more"), outside);
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "tree", "cat", "again"), outside);
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "tree", "dog", "more"), outside);
        var ds = ImageFolderDataset.Scan(Path.Combine(dir.Path, "tree"), Recipe);
        var seen = Enumerable.Range(0, ds.Count).Select(i => (Path.GetFileName(ds.Describe(i)), ds.ClassNames[ds.LabelOf(i)])).ToArray();
        Assert.That(seen, Is.EquivalentTo(new[] { ("1.jpg", "cat"), ("x.jpg", "cat"), ("2.jpg", "dog") }));
    }
}
