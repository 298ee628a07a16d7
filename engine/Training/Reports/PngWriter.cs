using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Engine.Training.Reports;

/// <summary>Writes 8-bit RGB PNGs (no filter, zlib-deflated) with nothing but the standard library.</summary>
public static class PngWriter
{
    /// <param name="rgb">Row-major, 3 bytes per pixel.</param>
    public static void WriteRgb(Stream stream, int width, int height, ReadOnlySpan<byte> rgb)
    {
        if (width < 1 || height < 1 || rgb.Length != width * height * 3)
            throw new ArgumentException($"PNG of {width}x{height} needs {width * height * 3} RGB bytes, got {rgb.Length}");
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type: truecolour
        Chunk(stream, "IHDR", ihdr);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0);  // filter: none
                    z.Write(rgb.Slice(y * width * 3, width * 3));
                }
            Chunk(stream, "IDAT", raw.ToArray());
        }
        Chunk(stream, "IEND", []);
    }

    public static void WriteRgb(string path, int width, int height, ReadOnlySpan<byte> rgb)
    {
        using var f = File.Create(path);
        WriteRgb(f, width, height, rgb);
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        uint crc = Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        s.Write(word);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
