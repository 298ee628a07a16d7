using Engine.Data.Codecs;
using Engine.Tensors;

namespace DatasetTools;

/// <summary>
/// A small three-class image folder (MNIST digits 0, 1, 2 as colour JPEGs) with bad files planted
/// among the good ones, to show a training run going through them: a truncated JPEG, an empty
/// file, text named .jpg, and a text file, which must be skipped and named; and a grayscale JPEG,
/// a CMYK JPEG and a PNG named .jpg, which must be read.
/// </summary>
public static class PlantedFolderWriter
{
    public static readonly string[] Classes = ["0-digit0", "1-digit1", "2-digit2"];

    /// <summary>Writes the tree; returns the planted files as (relative path, what it is, whether the loader must skip it).</summary>
    public static List<(string Path, string What, bool Skip)> Write(string outDir, List<GrayDigit>[] digits, int perClass, ulong seed)
    {
        var rng = new Rng(seed);
        for (int c = 0; c < Classes.Length; c++)
        {
            var dir = Directory.CreateDirectory(Path.Combine(outDir, Classes[c])).FullName;
            for (int i = 0; i < perClass; i++)
            {
                var rgb = Colourize(digits[c][i % digits[c].Count].Pixels, rng);
                File.WriteAllBytes(Path.Combine(dir, $"{i:D4}.jpg"), JpegCodec.Encode(rgb, NpmDigitPackage.Side, NpmDigitPackage.Side, JpegPixels.Rgb, 92));
            }
        }
        var two = digits[2][^1].Pixels;
        var good = JpegCodec.Encode(Colourize(digits[0][^1].Pixels, rng), NpmDigitPackage.Side, NpmDigitPackage.Side, JpegPixels.Rgb, 92);
        var planted = new List<(string, string, bool, byte[])>
        {
            ("0-digit0/truncated.jpg", "a JPEG cut off after half its bytes", true, good[..(good.Length / 2)]),
            ("0-digit0/empty.jpg", "zero bytes", true, []),
            ("1-digit1/not-an-image.jpg", "text with a .jpg name", true, "this is not an image\n"u8.ToArray()),
            ("1-digit1/notes.txt", "a text file among the images", true, "labels checked by hand\n"u8.ToArray()),
            ("2-digit2/grayscale.jpg", "a one-channel JPEG", false, JpegCodec.Encode(two, NpmDigitPackage.Side, NpmDigitPackage.Side, JpegPixels.Gray, 92)),
            ("2-digit2/cmyk.jpg", "a four-channel CMYK JPEG", false, JpegCodec.Encode(Cmyk(two), NpmDigitPackage.Side, NpmDigitPackage.Side, JpegPixels.Cmyk, 92)),
            ("2-digit2/really-a-png.jpg", "a PNG with a .jpg name", false, PngCodec.EncodeGray(two, NpmDigitPackage.Side, NpmDigitPackage.Side)),
        };
        foreach (var (path, _, _, bytes) in planted) File.WriteAllBytes(Path.Combine(outDir, path), bytes);
        return planted.Select(p => (p.Item1, p.Item2, p.Item3)).ToList();
    }

    /// <summary>Ink in one random colour on a background of another.</summary>
    private static byte[] Colourize(byte[] gray, Rng rng)
    {
        Span<double> ink = stackalloc double[3], paper = stackalloc double[3];
        for (int k = 0; k < 3; k++) { ink[k] = 128 + rng.NextDouble() * 127; paper[k] = rng.NextDouble() * 100; }
        var rgb = new byte[gray.Length * 3];
        for (int i = 0; i < gray.Length; i++)
        {
            double a = gray[i] / 255.0;
            for (int k = 0; k < 3; k++) rgb[3 * i + k] = (byte)Math.Round(a * ink[k] + (1 - a) * paper[k]);
        }
        return rgb;
    }

    /// <summary>Dark ink on white as CMYK (K = ink, no colour).</summary>
    private static byte[] Cmyk(byte[] gray)
    {
        var cmyk = new byte[gray.Length * 4];
        for (int i = 0; i < gray.Length; i++) cmyk[4 * i + 3] = gray[i];
        return cmyk;
    }
}
