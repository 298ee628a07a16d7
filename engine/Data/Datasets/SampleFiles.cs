using System.Buffers;
using Engine.Data.Codecs;

namespace Engine.Data.Datasets;

/// <summary>
/// Reading and decoding one file of a dataset, turning every way it can fail into
/// <see cref="BadSampleException"/>. File bytes and decoded pixels live in pooled arrays (a
/// 500x375 photo is over the large-object threshold; fresh arrays per example would keep the GC
/// busy at thousands of images per second).
/// </summary>
internal static class SampleFiles
{
    private static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Shared;

    /// <summary>Decodes an image into pooled pixels: pass the result to <see cref="Release"/> when done with it.</summary>
    public static Image8 DecodeImage(string path, int channels, DecodeHint? hint)
    {
        var (buffer, length) = ReadRented(path);
        try { return ImageDecoder.Decode(buffer.AsSpan(0, length), channels, hint, Pool); }
        catch (ImageDecodeException e) { throw new BadSampleException(path, e.Message); }
        finally { Pool.Return(buffer); }
    }

    public static void Release(Image8 image) => Pool.Return(image.Pixels);

    public static IndexedImage DecodeMask(string path)
    {
        var (buffer, length) = ReadRented(path);
        try { return ImageDecoder.DecodeMask(buffer.AsSpan(0, length)); }
        catch (ImageDecodeException e) { throw new BadSampleException(path, $"unreadable mask: {e.Message}"); }
        finally { Pool.Return(buffer); }
    }

    /// <summary>The whole file in a rented buffer (its first Length bytes).</summary>
    private static (byte[] Buffer, int Length) ReadRented(string path)
    {
        try
        {
            using var handle = RawFileNames.IsEscaped(path) ? RawFileNames.OpenRead(path) : File.OpenHandle(path);
            long length = RandomAccess.GetLength(handle);
            if (length > int.MaxValue / 2) throw new BadSampleException(path, $"a file of {length} bytes is too large to be an image");
            var buffer = Pool.Rent((int)Math.Max(length, 1));
            int total = 0;
            try
            {
                while (total < length)
                {
                    int n = RandomAccess.Read(handle, buffer.AsSpan(total, (int)length - total), total);
                    if (n == 0) break;
                    total += n;
                }
            }
            catch
            {
                Pool.Return(buffer);
                throw;
            }
            return (buffer, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadSampleException(path, $"cannot read: {e.Message}");
        }
    }
}
