using System.Numerics;
using System.Runtime.CompilerServices;

namespace Engine.Ops.Cpu;

/// <summary>
/// The blocked GEMM loop (GotoBLAS / BLIS structure): C (+)= A * B with A, B any packable
/// operands and C a (possibly column-blocked) stored matrix. A KC-deep panel of B is reused
/// from L1 across an MB x KC block of packed A held in L2. A B that the micro-kernel can read
/// where it lies (a batch of images, a stride-1 im2col of them) is not packed at all.
/// Parallel runs split C into disjoint strips of whole tiles; each element of C is still summed
/// in the same order (k blocks in sequence), so results do not depend on the thread count.
/// </summary>
internal static unsafe class GemmDriver<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly int MR = GemmKernels<T>.MR;
    private static readonly int NR = GemmKernels<T>.NR;
    // Depth of a packed block: a KC x NR panel of B plus the streamed A panels stay in L1.
    private static readonly int KC = 1024 / sizeof(T);
    // Columns of a packed B block: KC x NB is about 1 MiB, resident in L2.
    private static readonly int NB = Math.Max(NR, (1 << 20) / (KC * sizeof(T)) / NR * NR);
    // Rows of a packed A block.
    private static readonly int MB = 64 * MR;
    // Below this many multiply-adds a product runs on the calling thread.
    private const long ParallelThreshold = 1 << 21;
    // Largest A (elements) packed once up front and shared by parallel column strips.
    private const long SharedALimit = 1 << 23;

    [ThreadStatic] private static T[]? _packA;
    [ThreadStatic] private static T[]? _packB;
    [ThreadStatic] private static T[]? _sharedA;
    [ThreadStatic] private static nint[]? _rowOffsets;

    public static void Run<TA, TB>(int m, int n, int k, TA a, TB b, MatrixOperand<T> c, bool accumulate, bool parallel)
        where TA : struct, IGemmOperand<T> where TB : struct, IGemmOperand<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) StoreRow(c, i, 0, n, null, overwrite: true);
            return;
        }
        int threads = parallel ? Environment.ProcessorCount : 1;
        int mTiles = (m + MR - 1) / MR, nTiles = (n + NR - 1) / NR;
        if (threads == 1 || (long)m * n * k < ParallelThreshold || mTiles * nTiles == 1)
        {
            RunRange(0, m, 0, n, k, a, b, c, accumulate);
            return;
        }
        // Split the dimension with more tiles; strips are whole tiles so none gains a ragged edge.
        bool alongN = nTiles >= Math.Min(mTiles, 2 * threads);
        int tiles = alongN ? nTiles : mTiles, tile = alongN ? NR : MR, size = alongN ? n : m;
        int strips = Math.Min(threads, tiles);
        long sharedSize = (long)mTiles * MR * k;
        if (!alongN || sharedSize > SharedALimit)
        {
            WorkerTeam.Shared.For(strips, s =>
            {
                var (lo, hi) = TileStrips.Bounds(s, strips, tiles, tile, size);
                if (alongN) RunRange(0, m, lo, hi, k, a, b, c, accumulate);
                else RunRange(lo, hi, 0, n, k, a, b, c, accumulate);
            });
            return;
        }
        // Column strips all need the whole of A: pack it once, in parallel, then share it.
        if (_sharedA is null || _sharedA.LongLength < sharedSize) _sharedA = new T[sharedSize];
        fixed (T* shared = _sharedA)
        {
            T* packed = shared;
            int kBlocks = (k + KC - 1) / KC;
            WorkerTeam.Shared.For(kBlocks * mTiles, item =>
            {
                int block = item / mTiles, panel = item % mTiles, p0 = block * KC, i = panel * MR;
                int kc = Math.Min(KC, k - p0);
                a.PackA(i, Math.Min(MR, m - i), p0, kc, MR, packed + (long)block * mTiles * MR * KC + (long)i * kc);
            });
            WorkerTeam.Shared.For(strips, s =>
            {
                var (lo, hi) = TileStrips.Bounds(s, strips, tiles, tile, size);
                RunRange(0, m, lo, hi, k, a, b, c, accumulate, packed);
            });
        }
    }

    /// <param name="sharedA">All of A already packed (rows iStart..iEnd must then be all rows), or null to pack here.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRange<TA, TB>(int iStart, int iEnd, int jStart, int jEnd, int k, TA a, TB b, MatrixOperand<T> c, bool accumulate,
        T* sharedA = null)
        where TA : struct, IGemmOperand<T> where TB : struct, IGemmOperand<T>
    {
        int mr = MR, nr = NR, kcMax = KC, nbMax = NB, mbMax = sharedA is null ? MB : iEnd - iStart, half = nr / 2;
        var packA = _packA ??= new T[MB * KC];
        var packB = _packB ??= new T[nbMax * kcMax];
        bool inPlace = GemmKernels<T>.ReadsInPlace && b.ReadsInPlace(nr);
        var rowOffsets = _rowOffsets ??= new nint[KC];
        T* edge = stackalloc T[mr * nr];
        fixed (T* ownA = packA, pb = packB)
        fixed (nint* offsets = rowOffsets)
        {
            for (int i0 = iStart; i0 < iEnd; i0 += mbMax)
            {
                int mb = Math.Min(mbMax, iEnd - i0);
                for (int p0 = 0; p0 < k; p0 += kcMax)
                {
                    int kc = Math.Min(kcMax, k - p0);
                    bool overwrite = !accumulate && p0 == 0;
                    T* pa = ownA;
                    if (sharedA is null) a.PackA(i0, mb, p0, kc, mr, pa);
                    else pa = sharedA + (long)(p0 / kcMax) * RoundUp(mb, mr) * kcMax;
                    // Read in place, B's rows lie at offsets that depend on the depth block only.
                    if (inPlace) b.RowOffsets(p0, kc, offsets);
                    for (int j0 = jStart; j0 < jEnd; j0 += nbMax)
                    {
                        int nb = Math.Min(nbMax, jEnd - j0);
                        if (!inPlace) b.PackB(p0, kc, j0, nb, nr, pb);
                        // One B panel (kc x NR) stays in L1 while the A panels stream past it from L2.
                        for (int jr = 0; jr < nb; jr += nr)
                        {
                            int cols = Math.Min(nr, nb - jr), j = j0 + jr;
                            ref T bp = ref pb[(nint)jr * kc];
                            // In place, a missing right half (an odd number of half panels) rereads the left one.
                            T* b0 = inPlace ? b.HalfPanel(j) : null, b1 = inPlace && cols > half ? b.HalfPanel(j + half) : b0;
                            for (int ir = 0; ir < mb; ir += mr)
                            {
                                int rows = Math.Min(mr, mb - ir);
                                ref T ap = ref pa[(nint)ir * kc];
                                if (rows == mr && cols == nr)
                                {
                                    // Each half of the tile must be contiguous; the halves may lie apart.
                                    int inBlock = c.BlockCols - j % c.BlockCols;
                                    if (inBlock >= nr || (inBlock == half && c.BlockCols >= half))
                                    {
                                        T* left = c.At(i0 + ir, j);
                                        T* right = inBlock >= nr ? left + half : c.At(i0 + ir, j + half);
                                        if (inPlace) GemmKernels<T>.TileInPlace(kc, ref ap, b0, b1, offsets, ref *left, ref *right, c.Ld, overwrite);
                                        else GemmKernels<T>.Tile(kc, ref ap, ref bp, ref *left, ref *right, c.Ld, overwrite);
                                        continue;
                                    }
                                }
                                if (inPlace) GemmKernels<T>.TileInPlace(kc, ref ap, b0, b1, offsets, ref *edge, ref edge[half], nr, overwrite: true);
                                else GemmKernels<T>.Tile(kc, ref ap, ref bp, ref *edge, ref edge[half], nr, overwrite: true);
                                for (int r = 0; r < rows; r++) StoreRow(c, i0 + ir + r, j, cols, edge + r * nr, overwrite);
                            }
                        }
                    }
                }
            }
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;

    /// <summary>C[i, j..j+count] = (or +=) values; null values store zeros.</summary>
    private static void StoreRow(MatrixOperand<T> c, int i, int j, int count, T* values, bool overwrite)
    {
        while (count > 0)
        {
            int run = Math.Min(count, c.BlockCols - j % c.BlockCols);
            T* dst = c.At(i, j);
            if (values is null) new Span<T>(dst, run).Clear();
            else if (overwrite) new ReadOnlySpan<T>(values, run).CopyTo(new Span<T>(dst, run));
            else SpanMath.AddTo(new ReadOnlySpan<T>(values, run), new Span<T>(dst, run));
            if (values is not null) values += run;
            j += run;
            count -= run;
        }
    }
}
