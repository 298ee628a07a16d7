using System.Numerics;

namespace Engine.Ops.Cpu;

/// <summary>
/// The im2col matrix of a batch of images, never stored: row (c, ky, kx), column
/// img * OutPixels + oy * OutWidth + ox holds input (img, c, oy*s - pad + ky*d, ox*s - pad + kx*d),
/// zero in the padding. Packing reads the images directly, so a convolution is one GEMM
/// without an unfolded copy of its input; its rows also feed the weight gradient's
/// dot-product GEMM, dW = dY * columns^T.
/// </summary>
internal readonly unsafe struct Im2ColOperand<T> : IGemmOperand<T>, IRowSource<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _images;
    private readonly long _imageStride;
    private readonly ConvGeometry _g;
    private readonly bool _transposed;

    /// <param name="images">Channel 0 of image 0 (offset to a group's first channel).</param>
    /// <param name="imageStride">Elements from one image to the next (all channels, not just the group's).</param>
    /// <param name="geometry">The convolution seen by this operand; its Channels are those of one group.</param>
    /// <param name="transposed">Use as columns^T (rows pixels, columns taps): the weight gradient's right operand.</param>
    public Im2ColOperand(T* images, long imageStride, ConvGeometry geometry, bool transposed = false)
    {
        _images = images; _imageStride = imageStride; _g = geometry; _transposed = transposed;
    }

    public void PackA(int i0, int mb, int p0, int kc, int mr, T* dst) => throw new NotSupportedException("im2col columns are only a right-hand GEMM operand");

    public void PackB(int p0, int kc, int j0, int nb, int nr, T* dst)
    {
        if (_transposed)
        {
            // Rows are pixels, columns taps: each tap's run of pixels goes down one panel column.
            for (int t = 0; t < nb; t++) PackTapRow(j0 + t, p0, kc, kc, 0, dst + (nint)(t / nr) * nr * kc + t % nr, nr);
        }
        else
        {
            // Rows are taps, columns pixels: each tap's run of pixels is cut into the panels' rows.
            for (int p = 0; p < kc; p++) PackTapRow(p0 + p, j0, nb, nr, nr * kc, dst + (nint)p * nr, 1);
        }
        int used = nb % nr;
        if (used == 0) return;
        T* last = dst + (nint)(nb / nr) * nr * kc;
        for (int p = 0; p < kc; p++) PackCopy<T>.Zero(last + (nint)p * nr + used, nr - used, 1);
    }

    public void CopyRows(int r0, int rows, int c0, int count, T* dst, int dstStride)
    {
        if (_transposed) throw new NotSupportedException("row copies of transposed im2col columns");
        for (int r = 0; r < rows; r++) PackTapRow(r0 + r, c0, count, count, 0, dst + (nint)r * dstStride, 1);
    }

    /// <summary>
    /// Row r of the column matrix, columns j0..j0+nb, cut into pieces of nr placed panelSize
    /// apart; consecutive elements of a piece lie <paramref name="step"/> apart.
    /// </summary>
    private void PackTapRow(int r, int j0, int nb, int nr, int panelSize, T* dst, int step)
    {
        int k = _g.Kernel, kk = k * k, s = _g.Stride, h = _g.Height, w = _g.Width, ow = _g.OutWidth, outPixels = _g.OutPixels;
        int c = r / kk, ky = r % kk / k, kx = r % k;
        int yOffset = ky * _g.Dilation - _g.Padding, xOffset = kx * _g.Dilation - _g.Padding;
        int img = j0 / outPixels, pixel = j0 % outPixels, oy = pixel / ow, ox = pixel % ow;
        T* plane = _images + img * _imageStride + (long)c * h * w;
        int inPanel = 0;
        while (nb > 0)
        {
            int run = Math.Min(nb, Math.Min(ow - ox, nr - inPanel));
            T* d = dst + (nint)inPanel * step;
            int iy = oy * s + yOffset;
            if (iy < 0 || iy >= h) PackCopy<T>.Zero(d, run, step);
            else if (s == 1)
            {
                T* row = plane + (long)iy * w;
                int ix = ox + xOffset;
                int lead = Math.Clamp(-ix, 0, run), end = Math.Clamp(w - ix, 0, run);
                if (lead > 0) PackCopy<T>.Zero(d, lead, step);
                PackCopy<T>.Copy(row + ix + lead, d + (nint)lead * step, end - lead, step);
                if (end < run) PackCopy<T>.Zero(d + (nint)end * step, run - end, step);
            }
            else
            {
                T* row = plane + (long)iy * w;
                for (int t = 0; t < run; t++)
                {
                    int ix = (ox + t) * s + xOffset;
                    d[(nint)t * step] = (uint)ix < (uint)w ? row[ix] : T.Zero;
                }
            }
            nb -= run;
            inPanel += run;
            if (inPanel == nr) { inPanel = 0; dst += panelSize; }
            ox += run;
            if (ox == ow)
            {
                ox = 0;
                if (++oy == _g.OutHeight) { oy = 0; plane += _imageStride; }
            }
        }
    }

    /// <summary>Zeros the columns of the last panel beyond <paramref name="nb"/>.</summary>
    private static void PadPanelColumns(int nb, int nr, int kc, T* dst)
    {
        int used = nb % nr;
        if (used == 0) return;
        T* last = dst + (nint)(nb / nr) * nr * kc;
        for (int p = 0; p < kc; p++) PackCopy<T>.Zero(last + (nint)p * nr + used, nr - used, 1);
    }
}
