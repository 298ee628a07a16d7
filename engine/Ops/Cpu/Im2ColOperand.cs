using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Ops.Cpu;

/// <summary>
/// The im2col matrix of a batch of zero-padded images, never stored: row (c, ky, kx), column
/// img * OutPixels + oy * OutWidth + ox holds padded input (img, c, oy*s + ky*d, ox*s + kx*d).
/// Packing copies it straight from the images, so a convolution is one GEMM without an
/// unfolded copy of its input; its rows also feed the weight gradient's dot-product GEMM.
/// Every row is the same pattern of runs of pixels shifted by the tap's offset, so each pack
/// works out the runs (one per output row piece) once and replays them for every tap.
/// </summary>
internal readonly unsafe struct Im2ColOperand<T> : IGemmOperand<T>, IRowSource<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _padded;
    private readonly int _imageStride;
    private readonly ConvGeometry _g;
    private readonly bool _transposed;

    [ThreadStatic] private static int[]? _runs;
    [ThreadStatic] private static int[]? _taps;
    [ThreadStatic] private static int[]? _pixels;

    /// <param name="padded">Images already padded by geometry.Padding on every side (see <see cref="PaddedImages"/>), at the group's first channel.</param>
    /// <param name="imageStride">Elements from one padded image to the next (all channels, not just the group's).</param>
    /// <param name="geometry">The convolution seen by this operand; its Channels are those of one group.</param>
    /// <param name="transposed">Use as columns^T (rows pixels, columns taps): the weight gradient's right operand.</param>
    public Im2ColOperand(T* padded, int imageStride, ConvGeometry geometry, bool transposed = false)
    {
        _padded = padded; _imageStride = imageStride; _g = geometry; _transposed = transposed;
    }

    public void PackA(int i0, int mb, int p0, int kc, int mr, T* dst) => throw new NotSupportedException("im2col columns are only a right-hand GEMM operand");

    public void PackB(int p0, int kc, int j0, int nb, int nr, T* dst)
    {
        int panelSize = nr * kc;
        if (!_transposed)
        {
            // Rows are taps, columns pixels: each tap's pixels are cut into the panels' rows.
            fixed (int* runs = Scratch(ref _runs, 3 * (nb + 2)), taps = Scratch(ref _taps, kc))
            {
                int count = BuildRuns(j0, nb, nr, panelSize, 1, runs);
                TapOffsets(p0, kc, taps);
                // Runs shorter than a vector on average (small images): gather whole panel rows instead.
                int panels = (nb + nr - 1) / nr;
                if (typeof(T) == typeof(float) && Avx2.IsSupported && nr % 8 == 0 && count * 8 > nb)
                    fixed (int* pixels = Scratch(ref _pixels, panels * nr))
                    {
                        PixelOffsets(j0, nb, panels * nr, pixels);
                        GatherTaps(taps, kc, pixels, panels, nr, panelSize, (float*)dst);
                    }
                else
                    for (int p = 0; p < kc; p++) Replay(_padded + taps[p], runs, count, dst + (nint)p * nr, 1);
            }
        }
        else
        {
            // Rows are pixels, columns taps: each tap's pixels go down one panel column.
            fixed (int* runs = Scratch(ref _runs, 3 * (kc + 2)), taps = Scratch(ref _taps, nb))
            {
                int count = BuildRuns(p0, kc, kc, 0, nr, runs);
                TapOffsets(j0, nb, taps);
                bool eightAtOnce = typeof(T) == typeof(float) && Avx2.IsSupported && _g.Stride == 1 && nr % 8 == 0;
                for (int t = 0; t < nb;)
                {
                    T* panel = dst + (nint)(t / nr) * panelSize + t % nr;
                    if (eightAtOnce && t + 8 <= nb)
                    {
                        ReplayEightTaps(taps + t, runs, count, (float*)panel, nr);
                        t += 8;
                    }
                    else Replay(_padded + taps[t++], runs, count, panel, nr);
                }
            }
        }
        int used = nb % nr;
        if (used == 0) return;
        T* last = dst + (nint)(nb / nr) * panelSize;
        for (int p = 0; p < kc; p++) PackCopy<T>.Zero(last + (nint)p * nr + used, nr - used, 1);
    }

    /// <summary>
    /// Stride 1 with output rows of whole half panels: a half panel is one run of pixels of one
    /// output row, and tap (c, ky, kx) reads it shifted by the tap's offset in the padded image.
    /// </summary>
    public bool ReadsInPlace(int nr) => !_transposed && _g.Stride == 1 && _g.OutWidth % (nr / 2) == 0;

    public T* HalfPanel(int j)
    {
        int ow = _g.OutWidth, outPixels = _g.OutPixels, width = _g.Width + 2 * _g.Padding;
        int img = j / outPixels, pixel = j % outPixels;
        return _padded + (long)img * _imageStride + pixel / ow * width + pixel % ow;
    }

    public void RowOffsets(int p0, int kc, nint* offsets)
    {
        for (int p = 0; p < kc; p++) offsets[p] = _g.PaddedTapOffset(p0 + p);
    }

    public void CopyRows(int r0, int rows, int c0, int count, T* dst, int dstStride)
    {
        if (_transposed) throw new NotSupportedException("row copies of transposed im2col columns");
        fixed (int* runs = Scratch(ref _runs, 3 * (count + 2)), taps = Scratch(ref _taps, rows))
        {
            int runCount = BuildRuns(c0, count, count, 0, 1, runs);
            TapOffsets(r0, rows, taps);
            for (int r = 0; r < rows; r++) Replay(_padded + taps[r], runs, runCount, dst + (nint)r * dstStride, 1);
        }
    }

    /// <summary>Offsets into a padded image of taps r0..r0+count: c * plane + ky*d * width + kx*d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TapOffsets(int r0, int count, int* offsets)
    {
        for (int i = 0; i < count; i++) offsets[i] = _g.PaddedTapOffset(r0 + i);
    }

    /// <summary>
    /// Splits pixels j0..j0+count into runs along output rows, also cut every <paramref name="piece"/>
    /// pixels; pixel t of the range goes to (t / piece) * pieceStride + (t % piece) * step.
    /// Each run is (source offset of its first pixel for tap (0,0,0), destination offset, length).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int BuildRuns(int j0, int count, int piece, int pieceStride, int step, int* runs)
    {
        int ow = _g.OutWidth, outPixels = _g.OutPixels, s = _g.Stride, width = _g.Width + 2 * _g.Padding;
        int img = j0 / outPixels, pixel = j0 % outPixels, oy = pixel / ow, ox = pixel % ow;
        int n = 0;
        for (int t = 0; t < count;)
        {
            int inPiece = t % piece;
            int run = Math.Min(count - t, Math.Min(ow - ox, piece - inPiece));
            runs[3 * n] = img * _imageStride + oy * s * width + ox * s;
            runs[3 * n + 1] = t / piece * pieceStride + inPiece * step;
            runs[3 * n + 2] = run;
            n++;
            t += run;
            ox += run;
            if (ox == ow)
            {
                ox = 0;
                if (++oy == _g.OutHeight) { oy = 0; img++; }
            }
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Replay(T* source, int* runs, int count, T* dst, int step)
    {
        int s = _g.Stride;
        for (int i = 0; i < count; i++, runs += 3)
        {
            T* from = source + runs[0];
            T* to = dst + runs[1];
            if (s == 1) PackCopy<T>.Copy(from, to, runs[2], step);
            else for (int t = 0; t < runs[2]; t++) to[(nint)t * step] = from[(nint)t * s];
        }
    }

    /// <summary>Offsets into the padded images of pixels j0..j0+count for tap (0,0,0); slots up to <paramref name="slots"/> repeat the first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PixelOffsets(int j0, int count, int slots, int* offsets)
    {
        int ow = _g.OutWidth, outPixels = _g.OutPixels, s = _g.Stride, width = _g.Width + 2 * _g.Padding;
        for (int j = 0; j < slots; j++)
        {
            int pixel = j0 + (j < count ? j : 0), img = pixel / outPixels, inImage = pixel % outPixels;
            offsets[j] = img * _imageStride + inImage / ow * s * width + inImage % ow * s;
        }
    }

    /// <summary>Each tap's row of every panel gathered eight pixels at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void GatherTaps(int* taps, int kc, int* pixels, int panels, int nr, int panelSize, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            float* source = (float*)_padded + taps[p];
            float* row = dst + (nint)p * nr;
            for (int q = 0; q < panels; q++, row += panelSize)
                for (int c = 0; c < nr; c += 8)
                    Avx.Store(row + c, Avx2.GatherVector256(source, Avx.LoadVector256(pixels + q * nr + c), 4));
        }
    }

    /// <summary>
    /// Transposed packing for eight taps at once (stride 1): eight pixels of each of the eight
    /// taps' runs become eight panel rows of eight slots by one in-register transpose.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReplayEightTaps(int* taps, int* runs, int count, float* dst, int step)
    {
        float** rows = stackalloc float*[8];
        var tapOffsets = Avx.LoadVector256(taps);
        for (int i = 0; i < count; i++, runs += 3)
        {
            for (int u = 0; u < 8; u++) rows[u] = (float*)_padded + taps[u] + runs[0];
            float* to = dst + runs[1];
            int length = runs[2], t = 0;
            for (; t + 8 <= length; t += 8) PanelTranspose.EightByEight(rows, t, to + (nint)t * step, step);
            // The last pixels of a run (all of a small image's short rows): one gather of the eight taps each.
            for (float* pixel = (float*)_padded + runs[0] + t; t < length; t++, pixel++)
                Avx.Store(to + (nint)t * step, Avx2.GatherVector256(pixel, tapOffsets, 4));
        }
    }

    private static int[] Scratch(ref int[]? array, int count) => array is not null && array.Length >= count ? array : (array = new int[count]);
}

/// <summary>Zero-padded copies of a batch of images, the source the im2col packing reads.</summary>
internal static unsafe class PaddedImages
{
    /// <summary>
    /// The images [batch, channels, h, w] padded by <paramref name="pad"/> on every side into
    /// <paramref name="buffer"/> (contiguous), or the images themselves when there is no padding.
    /// The source's images lie <paramref name="sampleStride"/> elements apart (0: contiguous).
    /// </summary>
    public static T* Pad<T>(T* images, int batch, int channels, int h, int w, int pad, T* buffer, long sampleStride = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (pad == 0) return images;
        int width = w + 2 * pad, plane = (h + 2 * pad) * width;
        long stride = sampleStride == 0 ? (long)channels * h * w : sampleStride;
        void Plane(int index)
        {
            T* src = images + index / channels * stride + (long)(index % channels) * h * w;
            T* dst = buffer + (long)index * plane;
            new Span<T>(dst, pad * width + pad).Clear();
            for (int y = 0; y < h; y++)
            {
                T* row = dst + (long)(y + pad) * width + pad;
                new ReadOnlySpan<T>(src + (long)y * w, w).CopyTo(new Span<T>(row, w));
                // Right border of this row and left border of the next one.
                new Span<T>(row + w, 2 * pad).Clear();
            }
            new Span<T>(dst + (long)(h + pad) * width + pad, pad * width - pad).Clear();
        }
        int planes = batch * channels;
        if ((long)planes * plane < 1 << 16) for (int i = 0; i < planes; i++) Plane(i);
        else WorkerTeam.Shared.For(planes, Plane);
        return buffer;
    }

    /// <summary>Elements of the padded copy; none when there is no padding.</summary>
    public static long Size(int batch, int channels, int h, int w, int pad) => pad == 0 ? 0 : (long)batch * channels * (h + 2 * pad) * (w + 2 * pad);
}
