namespace Engine.Tensors;

/// <summary>
/// Moves a 4-D tensor between NCHW and NHWC storage (the logical shape stays [N, C, H, W]): at the
/// edges of an executor only (graph inputs a caller gives in NCHW, values read back for a caller),
/// never between ops, which compute in the executor's layout.
/// </summary>
public static class LayoutTranspose
{
    /// <summary>nhwc[n, p, c] = nchw[n, c, p] for the p = h * W + w of each pixel.</summary>
    public static void ToNhwc<T>(ReadOnlySpan<T> nchw, Span<T> nhwc, Shape shape)
    {
        var (batch, channels, plane) = Dims(shape, nchw.Length, nhwc.Length);
        for (int n = 0; n < batch; n++)
        {
            var src = nchw.Slice(n * channels * plane, channels * plane);
            var dst = nhwc.Slice(n * channels * plane, channels * plane);
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++) dst[p * channels + c] = src[c * plane + p];
        }
    }

    /// <summary>nchw[n, c, p] = nhwc[n, p, c].</summary>
    public static void ToNchw<T>(ReadOnlySpan<T> nhwc, Span<T> nchw, Shape shape)
    {
        var (batch, channels, plane) = Dims(shape, nhwc.Length, nchw.Length);
        for (int n = 0; n < batch; n++)
        {
            var src = nhwc.Slice(n * channels * plane, channels * plane);
            var dst = nchw.Slice(n * channels * plane, channels * plane);
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < channels; c++) dst[c * plane + p] = src[p * channels + c];
        }
    }

    /// <summary>A copy of <paramref name="data"/> (stored <paramref name="from"/>) stored <paramref name="to"/>; the same array when they agree.</summary>
    public static T[] Convert<T>(T[] data, Shape shape, Layout from, Layout to)
    {
        if (from == to || shape.Rank != 4) return data;
        var result = new T[data.Length];
        if (to == Layout.Nhwc) ToNhwc<T>(data, result, shape);
        else ToNchw<T>(data, result, shape);
        return result;
    }

    private static (int Batch, int Channels, int Plane) Dims(Shape shape, int from, int to)
    {
        if (shape.Rank != 4) throw new ArgumentException($"a layout applies to 4-D tensors, not {shape}");
        if (from != shape.Numel || to != shape.Numel) throw new ArgumentException($"{shape} has {shape.Numel} elements; spans of {from} and {to}");
        return (shape[0], shape[1], shape[2] * shape[3]);
    }
}
