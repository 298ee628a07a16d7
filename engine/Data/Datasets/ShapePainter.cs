using Engine.Tensors;

namespace Engine.Data.Datasets;

public enum ShapeKind { Circle, Square, Triangle, Ring, Cross, Frame, HorizontalStripes, VerticalStripes, DiagonalStripes, Checkerboard }

/// <summary>
/// Procedural drawing for the synthetic datasets: a shape or pattern, defined by an inside test at
/// each pixel centre, painted into a CHW float image (0..255) and optionally into a label mask
/// with exactly the same coverage.
/// </summary>
internal static class ShapePainter
{
    /// <summary>A shape instance: centre, radius and rotation in pixels/radians, or a pattern's period and phase.</summary>
    public readonly record struct Placement(ShapeKind Kind, double Cx, double Cy, double Radius, double Angle, double Period, double Phase);

    public static Placement RandomPlacement(ShapeKind kind, int size, Rng rng, double minRadius, double maxRadius)
    {
        double r = rng.NextUniform(minRadius, maxRadius) * size;
        double cx = rng.NextUniform(r * 0.8, size - r * 0.8), cy = rng.NextUniform(r * 0.8, size - r * 0.8);
        return new Placement(kind, cx, cy, r, rng.NextUniform(-0.5, 0.5), rng.NextUniform(size / 8.0, size / 4.0), rng.NextDouble());
    }

    public static bool Inside(Placement p, double x, double y)
    {
        double dx = x - p.Cx, dy = y - p.Cy;
        double c = Math.Cos(p.Angle), s = Math.Sin(p.Angle);
        double u = (c * dx + s * dy) / p.Radius, v = (-s * dx + c * dy) / p.Radius;   // rotated, in radii
        double d = Math.Sqrt(u * u + v * v);
        double Wave(double t) => Frac(t / p.Period + p.Phase);
        return p.Kind switch
        {
            ShapeKind.Circle => d <= 1,
            ShapeKind.Square => Math.Abs(u) <= 0.8 && Math.Abs(v) <= 0.8,
            ShapeKind.Triangle => v <= 0.5 && v >= 1.732 * Math.Abs(u) - 1,
            ShapeKind.Ring => d <= 1 && d >= 0.55,
            ShapeKind.Cross => (Math.Abs(u) <= 0.28 && Math.Abs(v) <= 1) || (Math.Abs(v) <= 0.28 && Math.Abs(u) <= 1),
            ShapeKind.Frame => Math.Max(Math.Abs(u), Math.Abs(v)) is <= 0.85 and >= 0.5,
            ShapeKind.HorizontalStripes => Wave(y) < 0.5,
            ShapeKind.VerticalStripes => Wave(x) < 0.5,
            ShapeKind.DiagonalStripes => Wave((x + y) * 0.7071) < 0.5,
            ShapeKind.Checkerboard => (Wave(x) < 0.5) ^ (Wave(y) < 0.5),
            _ => false,
        };
    }

    /// <summary>Paints <paramref name="colour"/> wherever the shape covers a pixel centre; writes <paramref name="label"/> there in the mask if given.</summary>
    public static void Paint(Span<float> chw, int size, in Placement p, ReadOnlySpan<float> colour, Span<int> mask = default, int label = 0)
    {
        int plane = size * size;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                if (!Inside(p, x + 0.5, y + 0.5)) continue;
                int i = y * size + x;
                for (int ch = 0; ch < 3; ch++) chw[ch * plane + i] = colour[ch];
                if (!mask.IsEmpty) mask[i] = label;
            }
    }

    /// <summary>A vertical gradient between two colours.</summary>
    public static void Gradient(Span<float> chw, int size, ReadOnlySpan<float> top, ReadOnlySpan<float> bottom)
    {
        int plane = size * size;
        for (int y = 0; y < size; y++)
        {
            float t = size == 1 ? 0 : y / (float)(size - 1);
            for (int ch = 0; ch < 3; ch++)
            {
                float v = top[ch] + (bottom[ch] - top[ch]) * t;
                chw.Slice(ch * plane + y * size, size).Fill(v);
            }
        }
    }

    public static void AddNoise(Span<float> chw, Rng rng, double sigma)
    {
        foreach (ref var v in chw) v = Math.Clamp(v + (float)(rng.NextNormal() * sigma), 0f, 255f);
    }

    /// <summary>HSV (hue in degrees, s and v in 0..1) to RGB in 0..255.</summary>
    public static float[] Hsv(double hue, double saturation, double value)
    {
        hue = ((hue % 360) + 360) % 360 / 60;
        int sector = (int)hue;
        double f = hue - sector, p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f));
        var (r, g, b) = sector switch
        {
            0 => (value, t, p), 1 => (q, value, p), 2 => (p, value, t),
            3 => (p, q, value), 4 => (t, p, value), _ => (value, p, q),
        };
        return [(float)(r * 255), (float)(g * 255), (float)(b * 255)];
    }

    /// <summary>Mirrors a CHW image and its mask left-right in place.</summary>
    public static void FlipHorizontal(Span<float> chw, int channels, int size, Span<int> mask)
    {
        for (int row = 0; row < channels * size; row++) chw.Slice(row * size, size).Reverse();
        if (!mask.IsEmpty)
            for (int y = 0; y < size; y++) mask.Slice(y * size, size).Reverse();
    }

    private static double Frac(double t) => t - Math.Floor(t);
}
