using System.IO.Compression;
using System.Text;
using Engine.Weights;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Weights;

/// <summary>The PyTorch reader executes nothing: any global other than a tensor rebuild or an OrderedDict is refused.</summary>
public class PickleTests
{
    private static string ZipWith(TempDir dir, byte[] pickle)
    {
        var path = dir["evil.pth"];
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var s = zip.CreateEntry("evil/data.pkl", CompressionLevel.NoCompression).Open())
            s.Write(pickle);
        return path;
    }

    [Test]
    public void A_pickle_that_calls_os_system_is_refused_by_name()
    {
        using var dir = new TempDir();
        // GLOBAL os.system, MARK, a string, TUPLE, REDUCE, STOP: what a malicious .pth does.
        var pickle = Encoding.Latin1.GetBytes("\u0080\u0002cos\nsystem\nq\u0000(X\u0004\u0000\u0000\u0000echotq\u0001Rq\u0002.");
        var path = ZipWith(dir, pickle);
        var e = Assert.Throws<InvalidDataException>(() => WeightFiles.Open(path).Dispose())!;
        Assert.That(e.Message, Does.Contain("it asks for os.system").And.Contain("nothing in them is executed").And.Contain(path));
    }

    [Test]
    public void Unknown_opcodes_and_legacy_files_are_refused_with_a_way_out()
    {
        using var dir = new TempDir();
        var path = ZipWith(dir, [0x80, 0x02, (byte)'i', (byte)'.']);   // INST: builds arbitrary objects
        Assert.That(() => WeightFiles.Open(path).Dispose(), Throws.TypeOf<InvalidDataException>().With.Message.Contains("opcode 0x69"));

        var legacy = dir["old.pth"];
        File.WriteAllBytes(legacy, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]);
        var e = Assert.Throws<InvalidDataException>(() => WeightFiles.Open(legacy).Dispose())!;
        Assert.That(e.Message, Does.Contain("legacy").And.Contain("torch.save(torch.load("));
    }
}
