using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Engine.Ops.Cpu.SimdFma;

namespace Engine.Ops.Cpu;

/// <summary>
/// The weight gradient dW[o, (c, ky, kx)] += sum over pixels of dY[o, pixel] * padded X[c, oy + ky*d, ox + kx*d]
/// for stride-1 convolutions whose output rows are whole vectors, read where the data lies. <see cref="GemmNT{T}"/>
/// first copies each tap's shifted rows (the im2col rows) for every chunk of pixels; here a 4 x 6 tile of vector
/// accumulators (4 output channels, 6 taps) runs along the output rows of a chunk with one pointer per tap into
/// the padded images, so nothing is copied, and neighbouring taps share the cache lines they load.
/// Chunks are runs of output rows (across images) in a fixed order, each reduced to scalars once and added to
/// dW in sequence: every element of dW is summed in the same order whatever the thread count.
/// </summary>
internal static unsafe class WeightGradientInPlace<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int TileA = 4, TileB = 6;
    // Output pixels per chunk: the chunk's dY rows of a few dozen channels stay in L2 while the taps' tiles pass
    // (measured on segnet's layers: 2048 and 4096 alike, 1024 and 512 slower).
    private const int ChunkPixels = 2048;

    [ThreadStatic] private static int[]? _tapOffsets;
    [ThreadStatic] private static nint[]? _rowOffsets;

    /// <summary>Whether this path runs the layer: stride 1, output rows a whole number of AVX-512 vectors.</summary>
    public static bool Fits(ConvGeometry g) => Vector512.IsHardwareAccelerated && g.Stride == 1 && g.OutWidth % Vector512<T>.Count == 0;

    /// <param name="m">Output channels of the group (rows of dW).</param>
    /// <param name="outGrads">dY of the group's first output channel; images lie dyImageStride apart, channels OutPixels apart.</param>
    /// <param name="padded">The padded images at the group's first input channel, imageStride apart (see <see cref="PaddedImages"/>).</param>
    /// <param name="g">The convolution as the group sees it (Channels: the group's input channels).</param>
    /// <param name="dw">dW of the group: m rows of g.ColumnRows taps, row stride ldw; the sums are added to it.</param>
    public static void Run(int m, int batch, T* outGrads, long dyImageStride, T* padded, long imageStride, ConvGeometry g, T* dw, int ldw, bool parallel)
    {
        int n = g.ColumnRows;
        if (m == 0 || n == 0 || batch == 0) return;
        int tilesA = (m + TileA - 1) / TileA, tilesB = (n + TileB - 1) / TileB;
        long work = (long)m * n * batch * g.OutPixels;
        int threads = parallel && work >= 1 << 21 ? Math.Min(Environment.ProcessorCount, Math.Max(tilesA, tilesB)) : 1;
        var job = new Job(batch, outGrads, dyImageStride, padded, imageStride, g, dw, ldw);
        if (threads == 1)
        {
            job.Range(0, m, 0, n);
            return;
        }
        // Strips of whole tiles along the longer side; each thread walks every chunk for its strip.
        bool alongB = tilesB >= tilesA;
        int tiles = alongB ? tilesB : tilesA, tile = alongB ? TileB : TileA, size = alongB ? n : m;
        WorkerTeam.Shared.For(threads, t =>
        {
            var (lo, hi) = TileStrips.Bounds(t, threads, tiles, tile, size);
            if (alongB) job.Range(0, m, lo, hi);
            else job.Range(lo, hi, 0, n);
        });
    }

    private readonly struct Job(int batch, T* outGrads, long dyImageStride, T* padded, long imageStride, ConvGeometry g, T* dw, int ldw)
    {
        /// <summary>dW rows i0..i1, taps j0..j1.</summary>
        public void Range(int i0, int i1, int j0, int j1)
        {
            int width = g.Width + 2 * g.Padding;
            int taps = j1 - j0, tapsPadded = (taps + TileB - 1) / TileB * TileB;
            int ow = g.OutWidth, oh = g.OutHeight, rowsPerChunk = Math.Max(1, ChunkPixels / ow), allRows = batch * oh;
            var tapArray = Grow(ref _tapOffsets, tapsPadded);
            var rowArray = Grow(ref _rowOffsets, 2 * rowsPerChunk);
            T* sums = stackalloc T[TileA * TileB];
            fixed (int* tapOffsets = tapArray)
            fixed (nint* rowOffsets = rowArray)
            {
                // Tap (c, ky, kx) of output pixel (oy, ox) is padded (c, oy + ky*d, ox + kx*d); past the last tap, repeat it.
                for (int t = 0; t < tapsPadded; t++) tapOffsets[t] = g.PaddedTapOffset(j0 + Math.Min(t, taps - 1));
                for (int row0 = 0; row0 < allRows; row0 += rowsPerChunk)
                {
                    int rows = Math.Min(rowsPerChunk, allRows - row0);
                    // Per output row of the chunk: where its dY row and its padded-image row start.
                    for (int r = 0; r < rows; r++)
                    {
                        int img = (row0 + r) / oh, oy = (row0 + r) % oh;
                        rowOffsets[2 * r] = (nint)(img * dyImageStride + (long)oy * ow);
                        rowOffsets[2 * r + 1] = (nint)(img * imageStride + (long)oy * width);
                    }
                    for (int j = 0; j < taps; j += TileB)
                        for (int i = i0; i < i1; i += TileA)
                        {
                            int rowsA = Math.Min(TileA, i1 - i);
                            T* a0 = outGrads + (nint)i * g.OutPixels;
                            // Missing channels of a ragged tile reread the first one; their sums are dropped.
                            nint step = g.OutPixels;
                            T* a1 = rowsA > 1 ? a0 + step : a0, a2 = rowsA > 2 ? a0 + 2 * step : a0, a3 = rowsA > 3 ? a0 + 3 * step : a0;
                            int* tj = tapOffsets + j;
                            Tile(rows, ow, rowOffsets, a0, a1, a2, a3, padded, tj, sums);
                            for (int r = 0; r < rowsA; r++)
                                for (int q = 0; q < Math.Min(TileB, taps - j); q++)
                                    dw[(nint)(i + r) * ldw + j0 + j + q] += sums[r * TileB + q];
                        }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(int rows, int ow, nint* rowOffsets, T* a0, T* a1, T* a2, T* a3, T* padded, int* taps, T* sums)
    {
        Vector512<T> s00 = default, s01 = default, s02 = default, s03 = default, s04 = default, s05 = default;
        Vector512<T> s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        Vector512<T> s20 = default, s21 = default, s22 = default, s23 = default, s24 = default, s25 = default;
        Vector512<T> s30 = default, s31 = default, s32 = default, s33 = default, s34 = default, s35 = default;
        T* b0 = padded + taps[0], b1 = padded + taps[1], b2 = padded + taps[2], b3 = padded + taps[3], b4 = padded + taps[4], b5 = padded + taps[5];
        for (int r = 0; r < rows; r++)
        {
            nint ra = rowOffsets[2 * r], rb = rowOffsets[2 * r + 1];
            for (int v = 0; v < ow; v += Vector512<T>.Count)
            {
                nint pa = ra + v, pb = rb + v;
                var x0 = Vector512.Load(a0 + pa); var x1 = Vector512.Load(a1 + pa); var x2 = Vector512.Load(a2 + pa); var x3 = Vector512.Load(a3 + pa);
                var y = Vector512.Load(b0 + pb); s00 = Fma(x0, y, s00); s10 = Fma(x1, y, s10); s20 = Fma(x2, y, s20); s30 = Fma(x3, y, s30);
                y = Vector512.Load(b1 + pb); s01 = Fma(x0, y, s01); s11 = Fma(x1, y, s11); s21 = Fma(x2, y, s21); s31 = Fma(x3, y, s31);
                y = Vector512.Load(b2 + pb); s02 = Fma(x0, y, s02); s12 = Fma(x1, y, s12); s22 = Fma(x2, y, s22); s32 = Fma(x3, y, s32);
                y = Vector512.Load(b3 + pb); s03 = Fma(x0, y, s03); s13 = Fma(x1, y, s13); s23 = Fma(x2, y, s23); s33 = Fma(x3, y, s33);
                y = Vector512.Load(b4 + pb); s04 = Fma(x0, y, s04); s14 = Fma(x1, y, s14); s24 = Fma(x2, y, s24); s34 = Fma(x3, y, s34);
                y = Vector512.Load(b5 + pb); s05 = Fma(x0, y, s05); s15 = Fma(x1, y, s15); s25 = Fma(x2, y, s25); s35 = Fma(x3, y, s35);
            }
        }
        sums[0] = Sum(s00); sums[1] = Sum(s01); sums[2] = Sum(s02); sums[3] = Sum(s03); sums[4] = Sum(s04); sums[5] = Sum(s05);
        sums[6] = Sum(s10); sums[7] = Sum(s11); sums[8] = Sum(s12); sums[9] = Sum(s13); sums[10] = Sum(s14); sums[11] = Sum(s15);
        sums[12] = Sum(s20); sums[13] = Sum(s21); sums[14] = Sum(s22); sums[15] = Sum(s23); sums[16] = Sum(s24); sums[17] = Sum(s25);
        sums[18] = Sum(s30); sums[19] = Sum(s31); sums[20] = Sum(s32); sums[21] = Sum(s33); sums[22] = Sum(s34); sums[23] = Sum(s35);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Sum(Vector512<T> v) => GemmNT<T>.Sum(v);

    private static TE[] Grow<TE>(ref TE[]? array, int count)
    {
        if (array is null || array.Length < count) array = new TE[count];
        return array;
    }
}
