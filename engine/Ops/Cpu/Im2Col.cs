using System.Numerics;
using System.Runtime.CompilerServices;

namespace Engine.Ops.Cpu;

/// <summary>
/// Folds a stored column matrix of one image (row (c, ky, kx), column oy * OutWidth + ox, see
/// <see cref="ConvGeometry"/>) back onto the image, adding each entry where its tap reads from.
/// </summary>
public static class Im2Col
{
    /// <summary>imageGrad[C x H x W] += fold(columns[ColumnRows x OutPixels]), the adjoint of the im2col unfolding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
