using Engine.Data.Datasets;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Tests.Data;

/// <summary>Images whose file names are not valid UTF-8 (possible on Linux) are read, not skipped.</summary>
public class RawFileNameTests
{
    [Test]
    public void An_image_with_a_non_utf8_name_is_listed_and_read()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("file names are bytes only on Linux (UTF-16 on Windows, normalised UTF-8 on macOS)");
        using var dir = new TempDir();
        dir.File("cat/plain.jpg", TestImages.GradientJpeg(8, 8));
        byte[] name = [.. "caf"u8.ToArray(), 0xE9, (byte)'-', 0xFF, .. ".jpg"u8.ToArray()];   // Latin-1 é and a stray byte
        string odd = Path.Combine(dir.Path, "cat", RawFileNames.Decode(name));
        using (var handle = RawFileNames.Create(odd))
            RandomAccess.Write(handle, TestImages.GradientJpeg(8, 8), 0);
        Assert.That(Directory.GetFiles(Path.Combine(dir.Path, "cat")), Has.Some.Contains('\uFFFD'), ".NET's own listing mangles the name");

        var ds = ImageFolderDataset.Scan(dir.Path, new ResizeRecipe(8, 8));
        Assert.That(ds.Count, Is.EqualTo(2));
        Assert.That(Enumerable.Range(0, 2).Select(ds.Describe), Has.Member(odd));
        for (int i = 0; i < ds.Count; i++) Assert.DoesNotThrow(() => ds.Load(i, new Rng(1), false), ds.Describe(i));
    }

    [Test]
    public void Escaped_names_round_trip_to_their_bytes()
    {
        byte[] raw = [0x61, 0xE9, 0xFF, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x2E];
        Assert.That(RawFileNames.Encode(RawFileNames.Decode(raw)), Is.EqualTo(raw.Append((byte)0).ToArray()));
    }
}
