using System.Numerics;

namespace Engine.Ops.Cpu;

/// <summary>
/// Unfolds one image into the column matrix of <see cref="ConvGeometry"/> (row (c, ky, kx),
/// column oy * OutWidth + ox) and folds a column matrix back, adding into an image gradient.
/// A conv is then one GEMM per group: weight[outC x C*k*k] * columns[C*k*k x OutPixels].
/// </summary>
public static class Im2Col
{
    /// <summary>columns[ColumnRows x OutPixels] = unfold(image[C x H x W]).</summary>
    public static void Unfold<T>(in ConvGeometry g, ReadOnlySpan<T> image, Span<T> columns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = g.Kernel, s = g.Stride, oh = g.OutHeight, ow = g.OutWidth, w = g.Width;
        int plane = g.Height * w, outPixels = oh * ow;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            var channel = image.Slice(c * plane, plane);
            for (int ky = 0; ky < k; ky++)
            {
                var (yLo, yHi) = g.ValidRows(ky * g.Dilation);
                for (int kx = 0; kx < k; kx++, row++)
                {
                    var dst = columns.Slice(row * outPixels, outPixels);
                    int xOffset = kx * g.Dilation - g.Padding;
                    var (xLo, xHi) = g.ValidColumns(kx * g.Dilation);
                    dst[..(yLo * ow)].Clear();
                    dst[(yHi * ow)..].Clear();
                    for (int oy = yLo; oy < yHi; oy++)
                    {
                        var src = channel.Slice((oy * s - g.Padding + ky * g.Dilation) * w, w);
                        var d = dst.Slice(oy * ow, ow);
                        d[..xLo].Clear();
                        d[xHi..].Clear();
                        if (s == 1)
                            src.Slice(xLo + xOffset, xHi - xLo).CopyTo(d[xLo..xHi]);
                        else
                            for (int ox = xLo; ox < xHi; ox++) d[ox] = src[ox * s + xOffset];
                    }
                }
            }
        }
    }

    /// <summary>imageGrad[C x H x W] += fold(columns[ColumnRows x OutPixels]), the adjoint of <see cref="Unfold"/>.</summary>
    public static void FoldAdd<T>(in ConvGeometry g, ReadOnlySpan<T> columns, Span<T> imageGrad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = g.Kernel, s = g.Stride, oh = g.OutHeight, ow = g.OutWidth, w = g.Width;
        int plane = g.Height * w, outPixels = oh * ow;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            var channel = imageGrad.Slice(c * plane, plane);
            for (int ky = 0; ky < k; ky++)
            {
                var (yLo, yHi) = g.ValidRows(ky * g.Dilation);
                for (int kx = 0; kx < k; kx++, row++)
                {
                    var src = columns.Slice(row * outPixels, outPixels);
                    int xOffset = kx * g.Dilation - g.Padding;
                    var (xLo, xHi) = g.ValidColumns(kx * g.Dilation);
                    for (int oy = yLo; oy < yHi; oy++)
                    {
                        var dst = channel.Slice((oy * s - g.Padding + ky * g.Dilation) * w, w);
                        var part = src.Slice(oy * ow, ow);
                        if (s == 1) SpanMath.AddTo<T>(part[xLo..xHi], dst.Slice(xLo + xOffset, xHi - xLo));
                        else for (int ox = xLo; ox < xHi; ox++) dst[ox * s + xOffset] += part[ox];
                    }
                }
            }
        }
    }
}
