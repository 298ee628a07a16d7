using Engine.Tensors;

namespace Engine.Tests.Tensors;

public class NpyTests
{
    [Test]
    public void Round_trips_float_double_and_int_with_numpys_magic_bytes()
    {
        var dir = Directory.CreateTempSubdirectory("npy").FullName;
        try
        {
            var f = new Tensor<float>(new Shape(2, 3), [1, -2, 3.5f, 4, 5, 6]);
            var path = Path.Combine(dir, "f.npy");
            Npy.Write(path, f);
            var bytes = File.ReadAllBytes(path);
            Assert.That(bytes[..6], Is.EqualTo(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' }));
            Assert.That((10 + BitConverter.ToUInt16(bytes, 8)) % 64, Is.Zero, "header is padded to 64 bytes");
            var back = Npy.Read<float>(path);
            Assert.That(back.Shape, Is.EqualTo(f.Shape));
            Assert.That(back.Data, Is.EqualTo(f.Data));

            var i = new Tensor<int>(new Shape(4), [7, -1, 0, 255]);
            Npy.Write(Path.Combine(dir, "i.npy"), i);
            Assert.That(Npy.Read<double>(Path.Combine(dir, "i.npy")).Data, Is.EqualTo(new double[] { 7, -1, 0, 255 }));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test]
    public void Rejects_a_file_that_is_not_npy_naming_it()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "hello world, not numpy");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => Npy.Read<float>(path));
            Assert.That(e!.Message, Does.Contain(path));
        }
        finally { File.Delete(path); }
    }
}
