using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Engine.Ops.Cpu.SimdFma;

namespace Engine.Ops.Cpu;

/// <summary>
/// C[m x n] += A[m x k] * B[n x k]^T by dot products along k, for operands whose rows are
/// contiguous along k: the weight gradient dW = dY * columns^T, where k runs over pixels.
/// The blocked GEMM would have to transpose both operands while packing; here chunks of rows
/// are copied as they lie and a 4 x 6 tile of vector accumulators runs along them, reduced to
/// scalars once per chunk. Each element of C is summed in a fixed order (chunks in sequence),
/// whatever the thread count.
/// </summary>
internal static unsafe class GemmNT<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int TileA = 4, TileB = 6;
    // Elements of k per chunk: 4 rows of A and 6 of B (40 KiB of floats) stay in L1.
    private static readonly int Chunk = 4096 / sizeof(T);
    private static readonly int Lanes = Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector<T>.Count;

    [ThreadStatic] private static T[]? _rowsA;
    [ThreadStatic] private static T[]? _rowsB;

    /// <summary>C (row stride ldc) += A * B^T.</summary>
    public static void Run<TA, TB>(int m, int n, int k, TA a, TB b, T* c, int ldc, bool parallel)
        where TA : struct, IRowSource<T> where TB : struct, IRowSource<T>
    {
        if (m == 0 || n == 0 || k == 0) return;
        int tilesA = (m + TileA - 1) / TileA, tilesB = (n + TileB - 1) / TileB;
        int threads = parallel && (long)m * n * k >= 1 << 21 ? Math.Min(Environment.ProcessorCount, Math.Max(tilesA, tilesB)) : 1;
        if (threads == 1)
        {
            RunRange(0, m, 0, n, k, a, b, c, ldc);
            return;
        }
        // Strips of whole tiles along the longer side; each thread copies the rows it needs itself.
        bool alongB = tilesB >= tilesA;
        int tiles = alongB ? tilesB : tilesA, tile = alongB ? TileB : TileA, size = alongB ? n : m;
        WorkerTeam.Shared.For(threads, t =>
        {
            var (lo, hi) = TileStrips.Bounds(t, threads, tiles, tile, size);
            if (alongB) RunRange(0, m, lo, hi - lo, k, a, b, c, ldc);
            else RunRange(lo, hi - lo, 0, n, k, a, b, c, ldc);
        });
    }

    /// <summary>C[i0.., j0..] += A[i0..i0+m] * B[j0..j0+n]^T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRange<TA, TB>(int i0, int m, int j0, int n, int k, TA a, TB b, T* c, int ldc)
        where TA : struct, IRowSource<T> where TB : struct, IRowSource<T>
    {
        int mPad = RoundUp(m, TileA), nPad = RoundUp(n, TileB), stride = RoundUp(Math.Min(Chunk, k), Lanes);
        var rowsA = Grow(ref _rowsA, (long)mPad * stride);
        var rowsB = Grow(ref _rowsB, (long)nPad * stride);
        fixed (T* ra = rowsA, rb = rowsB)
        {
            // Padding rows, and each row past a chunk's length up to the vector-rounded stride, are
            // zero and add nothing to the sums; the copies overwrite everything else.
            new Span<T>(ra + (nint)m * stride, (mPad - m) * stride).Clear();
            new Span<T>(rb + (nint)n * stride, (nPad - n) * stride).Clear();
            for (int k0 = 0; k0 < k; k0 += Chunk)
            {
                int kb = Math.Min(Chunk, k - k0);
                if (kb < stride)
                {
                    for (int r = 0; r < m; r++) new Span<T>(ra + (nint)r * stride + kb, stride - kb).Clear();
                    for (int r = 0; r < n; r++) new Span<T>(rb + (nint)r * stride + kb, stride - kb).Clear();
                }
                a.CopyRows(i0, m, k0, kb, ra, stride);
                b.CopyRows(j0, n, k0, kb, rb, stride);
                Tiles(RoundUp(kb, Lanes), ra, rb, stride, m, n, c + (nint)i0 * ldc + j0, ldc);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles(int length, T* ra, T* rb, int stride, int m, int n, T* c, int ldc)
    {
        T* sums = stackalloc T[TileA * TileB];
        // B rows outermost: a tile's six B rows stay in L1 while the A rows stream past.
        for (int j = 0; j < n; j += TileB)
            for (int i = 0; i < m; i += TileA)
            {
                if (Vector512.IsHardwareAccelerated) Dot512(length, ra + (nint)i * stride, rb + (nint)j * stride, stride, sums);
                else DotVector(length, ra + (nint)i * stride, rb + (nint)j * stride, stride, sums);
                for (int r = 0; r < Math.Min(TileA, m - i); r++)
                    for (int q = 0; q < Math.Min(TileB, n - j); q++)
                        c[(nint)(i + r) * ldc + j + q] += sums[r * TileB + q];
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot512(int length, T* a, T* b, int stride, T* sums)
    {
        Vector512<T> s00 = default, s01 = default, s02 = default, s03 = default, s04 = default, s05 = default;
        Vector512<T> s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        Vector512<T> s20 = default, s21 = default, s22 = default, s23 = default, s24 = default, s25 = default;
        Vector512<T> s30 = default, s31 = default, s32 = default, s33 = default, s34 = default, s35 = default;
        T* a1 = a + stride, a2 = a1 + stride, a3 = a2 + stride;
        for (int v = 0; v < length; v += Vector512<T>.Count)
        {
            var x0 = Vector512.Load(a + v); var x1 = Vector512.Load(a1 + v); var x2 = Vector512.Load(a2 + v); var x3 = Vector512.Load(a3 + v);
            T* bq = b + v;
            var y = Vector512.Load(bq); s00 = Fma(x0, y, s00); s10 = Fma(x1, y, s10); s20 = Fma(x2, y, s20); s30 = Fma(x3, y, s30);
            y = Vector512.Load(bq + stride); s01 = Fma(x0, y, s01); s11 = Fma(x1, y, s11); s21 = Fma(x2, y, s21); s31 = Fma(x3, y, s31);
            y = Vector512.Load(bq + 2 * stride); s02 = Fma(x0, y, s02); s12 = Fma(x1, y, s12); s22 = Fma(x2, y, s22); s32 = Fma(x3, y, s32);
            y = Vector512.Load(bq + 3 * stride); s03 = Fma(x0, y, s03); s13 = Fma(x1, y, s13); s23 = Fma(x2, y, s23); s33 = Fma(x3, y, s33);
            y = Vector512.Load(bq + 4 * stride); s04 = Fma(x0, y, s04); s14 = Fma(x1, y, s14); s24 = Fma(x2, y, s24); s34 = Fma(x3, y, s34);
            y = Vector512.Load(bq + 5 * stride); s05 = Fma(x0, y, s05); s15 = Fma(x1, y, s15); s25 = Fma(x2, y, s25); s35 = Fma(x3, y, s35);
        }
        sums[0] = Sum(s00); sums[1] = Sum(s01); sums[2] = Sum(s02); sums[3] = Sum(s03); sums[4] = Sum(s04); sums[5] = Sum(s05);
        sums[6] = Sum(s10); sums[7] = Sum(s11); sums[8] = Sum(s12); sums[9] = Sum(s13); sums[10] = Sum(s14); sums[11] = Sum(s15);
        sums[12] = Sum(s20); sums[13] = Sum(s21); sums[14] = Sum(s22); sums[15] = Sum(s23); sums[16] = Sum(s24); sums[17] = Sum(s25);
        sums[18] = Sum(s30); sums[19] = Sum(s31); sums[20] = Sum(s32); sums[21] = Sum(s33); sums[22] = Sum(s34); sums[23] = Sum(s35);
    }

    // Portable version (AVX2, NEON, or scalar-width Vector<T>): fewer registers, one A row at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotVector(int length, T* a, T* b, int stride, T* sums)
    {
        int w = Vector<T>.Count;
        for (int r = 0; r < TileA; r++)
        {
            T* ar = a + (nint)r * stride;
            Vector<T> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
            for (int v = 0; v < length; v += w)
            {
                var x = Vector.Load(ar + v);
                T* bq = b + v;
                s0 = Fma(x, Vector.Load(bq), s0);
                s1 = Fma(x, Vector.Load(bq + stride), s1);
                s2 = Fma(x, Vector.Load(bq + 2 * stride), s2);
                s3 = Fma(x, Vector.Load(bq + 3 * stride), s3);
                s4 = Fma(x, Vector.Load(bq + 4 * stride), s4);
                s5 = Fma(x, Vector.Load(bq + 5 * stride), s5);
            }
            T* o = sums + r * TileB;
            o[0] = Vector.Sum(s0); o[1] = Vector.Sum(s1); o[2] = Vector.Sum(s2); o[3] = Vector.Sum(s3); o[4] = Vector.Sum(s4); o[5] = Vector.Sum(s5);
        }
    }

    // Halving to 128 bits before the final reduction takes a third of the instructions of Vector512.Sum.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Sum(Vector512<T> v)
    {
        var half = v.GetLower() + v.GetUpper();
        return Vector128.Sum(half.GetLower() + half.GetUpper());
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;

    private static T[] Grow(ref T[]? array, long count)
    {
        if (count > Array.MaxLength) throw new OutOfMemoryException($"a GEMM buffer of {count} elements is larger than an array can be");
        if (array is null || array.Length < count) array = new T[count];
        return array;
    }
}
