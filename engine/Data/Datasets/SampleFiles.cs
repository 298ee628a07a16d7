using Engine.Data.Codecs;

namespace Engine.Data.Datasets;

/// <summary>Reading and decoding one file of a dataset, turning every way it can fail into <see cref="BadSampleException"/>.</summary>
internal static class SampleFiles
{
    public static byte[] Read(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadSampleException(path, $"cannot read: {e.Message}");
        }
    }

    public static Image8 DecodeImage(string path, int channels, DecodeHint? hint)
    {
        var bytes = Read(path);
        try { return ImageDecoder.Decode(bytes, channels, hint); }
        catch (ImageDecodeException e) { throw new BadSampleException(path, e.Message); }
    }

    public static IndexedImage DecodeMask(string path)
    {
        var bytes = Read(path);
        try { return ImageDecoder.DecodeMask(bytes); }
        catch (ImageDecodeException e) { throw new BadSampleException(path, $"unreadable mask: {e.Message}"); }
    }
}
