using System.IO.Compression;
using Engine.Data.Codecs;

namespace Engine.Tests.Data;

/// <summary>Images and files the data tests make for themselves.</summary>
internal static class TestImages
{
    /// <summary>A smooth RGB image (JPEG-friendly): R follows x, G follows y, B is their mix.</summary>
    public static byte[] Gradient(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                rgb[i] = (byte)(40 + 170 * x / Math.Max(1, width - 1));
                rgb[i + 1] = (byte)(30 + 180 * y / Math.Max(1, height - 1));
                rgb[i + 2] = (byte)((rgb[i] + rgb[i + 1]) / 2);
            }
        return rgb;
    }

    public static byte[] GradientJpeg(int width, int height, int quality = 95) => JpegCodec.Encode(Gradient(width, height), width, height, JpegPixels.Rgb, quality);

    /// <summary>The VOC colour map's first entries are irrelevant here: a distinct colour per index.</summary>
    public static Rgb[] Palette(int n) => Enumerable.Range(0, n).Select(i => new Rgb((byte)(i * 37), (byte)(i * 91), (byte)(255 - i))).ToArray();

    /// <summary>
    /// A PNG written by hand (signature, IHDR, one zlib IDAT with filter 0 rows, optional PLTE, IEND),
    /// for the kinds our encoder does not write: 16-bit samples, packed sub-byte palettes.
    /// </summary>
    public static byte[] RawPng(int width, int height, byte bitDepth, byte colorType, byte[] rowBytes, int bytesPerRow, Rgb[]? palette = null)
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        WriteBigEndian(ihdr, 0, (uint)width);
        WriteBigEndian(ihdr, 4, (uint)height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        Chunk(png, "IHDR", ihdr);
        if (palette is not null) Chunk(png, "PLTE", palette.SelectMany(c => new[] { c.R, c.G, c.B }).ToArray());
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
            for (int y = 0; y < height; y++)
            {
                z.WriteByte(0);
                z.Write(rowBytes, y * bytesPerRow, bytesPerRow);
            }
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A copy of <paramref name="png"/> whose IHDR declares another size (CRC kept valid).</summary>
    public static byte[] WithDeclaredSize(byte[] png, uint width, uint height)
    {
        var copy = png.ToArray();
        WriteBigEndian(copy, 16, width);
        WriteBigEndian(copy, 20, height);
        WriteBigEndian(copy, 29, Crc32(copy.AsSpan(12, 17), 0xFFFFFFFFu) ^ 0xFFFFFFFFu);
        return copy;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var header = new byte[8];
        WriteBigEndian(header, 0, (uint)data.Length);
        for (int i = 0; i < 4; i++) header[4 + i] = (byte)type[i];
        s.Write(header);
        s.Write(data);
        uint crc = Crc32(header.AsSpan(4), 0xFFFFFFFFu);
        crc = Crc32(data, crc) ^ 0xFFFFFFFFu;
        var tail = new byte[4];
        WriteBigEndian(tail, 0, crc);
        s.Write(tail);
    }

    private static uint Crc32(ReadOnlySpan<byte> data, uint crc)
    {
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return crc;
    }

    private static void WriteBigEndian(byte[] buffer, int offset, uint value)
    {
        buffer[offset] = (byte)(value >> 24);
        buffer[offset + 1] = (byte)(value >> 16);
        buffer[offset + 2] = (byte)(value >> 8);
        buffer[offset + 3] = (byte)value;
    }
}

/// <summary>A temporary folder deleted at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "engine-data-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string relative, byte[] contents)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllBytes(full, contents);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
