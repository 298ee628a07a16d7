using Engine.Data.Codecs;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace DatasetTools;

/// <summary>
/// A small VOC-format segmentation set composed from MNIST digits: each Size x Size canvas has a
/// random gradient background with noise and one to three digits (scaled to 20..36 px, random
/// colour and place). Mask: digit d is class d + 1 where the digit's ink is above half intensity,
/// 0 is background, and a one-pixel ring of background around every digit is the boundary 255,
/// as VOC marks object outlines. Written as VOCdevkit/VOC2012/{JPEGImages/*.jpg,
/// SegmentationClass/*.png (palette, VOC colour map), ImageSets/Segmentation/{train,val,trainval}.txt,
/// classes.txt}. The last round(valFraction x count) images form the validation split and use
/// only the digits held out of the training images (the last 20% of each class).
/// </summary>
public static class MnistVocWriter
{
    public static readonly string[] ClassNames = ["background", .. Enumerable.Range(0, 10).Select(d => $"digit-{d}")];

    public static (int Train, int Val) Write(string outDir, List<GrayDigit>[] digits, int count, int size, double valFraction, ulong seed)
    {
        if (count < 2) throw new ArgumentException($"--count {count}: need at least 2 images");
        if (size < 40) throw new ArgumentException($"--size {size}: canvases must be at least 40 pixels to hold a digit");
        var root = Path.Combine(outDir, "VOCdevkit", "VOC2012");
        var jpegDir = Directory.CreateDirectory(Path.Combine(root, "JPEGImages")).FullName;
        var maskDir = Directory.CreateDirectory(Path.Combine(root, "SegmentationClass")).FullName;
        var listDir = Directory.CreateDirectory(Path.Combine(root, "ImageSets", "Segmentation")).FullName;
        int nVal = Math.Clamp((int)Math.Round(count * valFraction), 1, count - 1);
        var trainPool = digits.Select(d => d.Take(d.Count - HeldOut(d.Count)).ToArray()).ToArray();
        var valPool = digits.Select(d => d.Skip(d.Count - HeldOut(d.Count)).ToArray()).ToArray();
        var palette = VocPalette();
        var ids = Enumerable.Range(0, count).Select(i => $"mnist_{i:D6}").ToArray();
        Parallel.For(0, count, i =>
        {
            var pool = i < count - nVal ? trainPool : valPool;
            var (rgb, mask) = Compose(pool, size, new Rng(Rng.Mix(seed ^ Rng.Mix((ulong)i + 0xD161757UL))));
            File.WriteAllBytes(Path.Combine(jpegDir, ids[i] + ".jpg"), JpegCodec.Encode(rgb, size, size, JpegPixels.Rgb, 92));
            File.WriteAllBytes(Path.Combine(maskDir, ids[i] + ".png"), PngCodec.EncodeIndexed(mask, size, size, palette));
        });
        File.WriteAllLines(Path.Combine(listDir, "train.txt"), ids[..(count - nVal)]);
        File.WriteAllLines(Path.Combine(listDir, "val.txt"), ids[(count - nVal)..]);
        File.WriteAllLines(Path.Combine(listDir, "trainval.txt"), ids);
        File.WriteAllLines(Path.Combine(root, "classes.txt"), ClassNames);
        return (count - nVal, nVal);
    }

    private static int HeldOut(int n) => Math.Max(1, n / 5);

    /// <summary>One canvas: interleaved RGB bytes and the label mask.</summary>
    public static (byte[] Rgb, byte[] Mask) Compose(GrayDigit[][] pool, int size, Rng rng)
    {
        int plane = size * size;
        var chw = new float[3 * plane];
        var top = Hsv(rng.NextUniform(0, 360), rng.NextUniform(0, 0.5), rng.NextUniform(0.1, 0.6));
        var bottom = Hsv(rng.NextUniform(0, 360), rng.NextUniform(0, 0.5), rng.NextUniform(0.1, 0.6));
        for (int y = 0; y < size; y++)
            for (int ch = 0; ch < 3; ch++)
                chw.AsSpan(ch * plane + y * size, size).Fill(top[ch] + (bottom[ch] - top[ch]) * y / (size - 1f));
        var mask = new byte[plane];
        int digitsOnCanvas = 1 + rng.NextInt(3);
        for (int k = 0; k < digitsOnCanvas; k++)
        {
            int d = rng.NextInt(10);
            var digit = pool[d][rng.NextInt(pool[d].Length)];
            int s = 20 + rng.NextInt(17);
            int x0 = rng.NextInt(size - s + 1), y0 = rng.NextInt(size - s + 1);
            var ink = Hsv(rng.NextUniform(0, 360), rng.NextUniform(0.3, 1), rng.NextUniform(0.75, 1));
            var alpha = new float[s * s];
            Resampler.Linear(new Image8(NpmDigitPackage.Side, NpmDigitPackage.Side, 1, digit.Pixels), CropBox.Full, s, s, alpha);
            for (int y = 0; y < s; y++)
                for (int x = 0; x < s; x++)
                {
                    float a = alpha[y * s + x] / 255f;
                    int p = (y0 + y) * size + x0 + x;
                    for (int ch = 0; ch < 3; ch++) chw[ch * plane + p] = a * ink[ch] + (1 - a) * chw[ch * plane + p];
                    if (a > 0.5f) mask[p] = (byte)(d + 1);
                }
        }
        MarkBoundary(mask, size);
        var rgb = new byte[3 * plane];
        for (int p = 0; p < plane; p++)
            for (int ch = 0; ch < 3; ch++)
                rgb[3 * p + ch] = (byte)Math.Clamp(Math.Round(chw[ch * plane + p] + rng.NextNormal() * 6), 0, 255);
        return (rgb, mask);
    }

    /// <summary>Background pixels with a digit pixel among their 8 neighbours become 255.</summary>
    public static void MarkBoundary(byte[] mask, int size)
    {
        var original = (byte[])mask.Clone();
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                if (original[y * size + x] != 0) continue;
                bool nearDigit = false;
                for (int dy = -1; dy <= 1 && !nearDigit; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= size || xx < 0 || xx >= size) continue;
                        byte v = original[yy * size + xx];
                        if (v != 0 && v != 255) { nearDigit = true; break; }
                    }
                if (nearDigit) mask[y * size + x] = 255;
            }
    }

    /// <summary>The PASCAL VOC colour map: index bits spread over the high bits of R, G and B.</summary>
    public static Rgb[] VocPalette()
    {
        var palette = new Rgb[256];
        for (int i = 0; i < 256; i++)
        {
            int r = 0, g = 0, b = 0, c = i;
            for (int j = 0; j < 8; j++)
            {
                r |= (c & 1) << (7 - j);
                g |= ((c >> 1) & 1) << (7 - j);
                b |= ((c >> 2) & 1) << (7 - j);
                c >>= 3;
            }
            palette[i] = new Rgb((byte)r, (byte)g, (byte)b);
        }
        return palette;
    }

    private static float[] Hsv(double hue, double saturation, double value)
    {
        double h = ((hue % 360) + 360) % 360 / 60, f = h - Math.Floor(h);
        double p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f));
        var (r, g, b) = (int)h switch { 0 => (value, t, p), 1 => (q, value, p), 2 => (p, value, t), 3 => (p, q, value), 4 => (t, p, value), _ => (value, p, q) };
        return [(float)(r * 255), (float)(g * 255), (float)(b * 255)];
    }
}
