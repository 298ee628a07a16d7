namespace Engine.Training.Reports;

/// <summary>Colour pictures of segmentation results: class masks in the PASCAL VOC palette, side by side with the input.</summary>
public static class SegmentationImages
{
    /// <summary>VOC's palette: the bits of the class index spread over the high bits of R, G and B.</summary>
    public static (byte R, byte G, byte B) Colour(int cls)
    {
        if (cls < 0) return (224, 224, 192);  // the ignore / boundary colour of VOC's PNGs
        int r = 0, g = 0, b = 0, c = cls;
        for (int j = 0; j < 8; j++)
        {
            r |= ((c >> 0) & 1) << (7 - j);
            g |= ((c >> 1) & 1) << (7 - j);
            b |= ((c >> 2) & 1) << (7 - j);
            c >>= 3;
        }
        return ((byte)r, (byte)g, (byte)b);
    }

    /// <summary>
    /// One PNG with the panels side by side, 2 pixels of white between them: the CHW image
    /// (values in [0, 1], or stretched to it when they are not), then each mask (class indices, HxW).
    /// </summary>
    public static void WritePanels(string path, float[] image, int channels, int height, int width, params int[][] masks)
    {
        const int gap = 2;
        int panels = 1 + masks.Length, total = panels * width + (panels - 1) * gap;
        var rgb = new byte[total * height * 3];
        rgb.AsSpan().Fill(255);
        var (lo, hi) = Range(image);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int o = (y * total + x) * 3;
                for (int k = 0; k < 3; k++)
                {
                    float v = image[(Math.Min(k, channels - 1) * height + y) * width + x];
                    rgb[o + k] = (byte)Math.Clamp(Math.Round((v - lo) / (hi - lo) * 255), 0, 255);
                }
            }
        for (int m = 0; m < masks.Length; m++)
        {
            int x0 = (m + 1) * (width + gap);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    var (r, g, b) = Colour(masks[m][y * width + x]);
                    int o = (y * total + x0 + x) * 3;
                    rgb[o] = r; rgb[o + 1] = g; rgb[o + 2] = b;
                }
        }
        PngWriter.WriteRgb(path, total, height, rgb);
    }

    /// <summary>A mask alone as a colour PNG, in VOC's colours or those of <paramref name="colour"/> (e.g. ADE20K's).</summary>
    public static void WriteMask(string path, int[] mask, int height, int width, Func<int, (byte R, byte G, byte B)>? colour = null)
    {
        colour ??= Colour;
        var rgb = new byte[height * width * 3];
        for (int i = 0; i < mask.Length; i++)
        {
            var (r, g, b) = colour(mask[i]);
            rgb[3 * i] = r; rgb[3 * i + 1] = g; rgb[3 * i + 2] = b;
        }
        PngWriter.WriteRgb(path, width, height, rgb);
    }

    private static (float, float) Range(float[] image)
    {
        float lo = image.Length == 0 ? 0 : image.Min(), hi = image.Length == 0 ? 1 : image.Max();
        if (lo >= 0 && hi <= 1) return (0, 1);
        return hi > lo ? (lo, hi) : (lo, lo + 1);
    }
}
