using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Engine.Ops.Cpu.SimdFma;

namespace Engine.Ops.Cpu;

/// <summary>
/// The GEMM micro-kernels: C[MR x NR] (+)= Apanel[MR x kc] * Bpanel[kc x NR] from packed panels
/// (A panel: kc groups of MR values, one per row; B panel: kc rows of NR contiguous values).
/// The accumulators live in registers for the whole kc loop; the widest vector type the CPU
/// runs natively is chosen once (AVX-512, then Vector&lt;T&gt;, then scalar).
/// </summary>
internal static class GemmKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private enum Kind { V512, Vec, Scalar }

    private static readonly Kind Use = Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported ? Kind.V512
        : Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? Kind.Vec : Kind.Scalar;

    /// <summary>Rows of a micro-tile (broadcast from the A panel).</summary>
    public static readonly int MR = Use switch { Kind.V512 => 8, Kind.Vec => 6, _ => 4 };
    /// <summary>Columns of a micro-tile (two vectors wide).</summary>
    public static readonly int NR = Use switch { Kind.V512 => 2 * Vector512<T>.Count, Kind.Vec => 2 * Vector<T>.Count, _ => 4 };

    /// <summary>
    /// One full MR x NR tile; <paramref name="overwrite"/> stores instead of adding to C. The left
    /// and right halves of the tile's columns start at <paramref name="c0"/> and <paramref name="c1"/>
    /// (c1 = c0 + NR/2 in a plain matrix; elsewhere when the halves belong to different images).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(int kc, ref T a, ref T b, ref T c0, ref T c1, nint ldc, bool overwrite)
    {
        switch (Use)
        {
            case Kind.V512: Tile512(kc, ref a, ref b, ref c0, ref c1, ldc, overwrite); break;
            case Kind.Vec: TileVec(kc, ref a, ref b, ref c0, ref c1, ldc, overwrite); break;
            default: TileScalar(kc, ref a, ref b, ref c0, ref c1, ldc, overwrite); break;
        }
    }

    /// <summary>Whether <see cref="TileInPlace"/> runs on this CPU (the AVX-512 kernel).</summary>
    public static bool ReadsInPlace => Use == Kind.V512;

    /// <summary>
    /// <see cref="Tile"/> with B read where it lies: row p of the tile's left and right column
    /// halves at b0 + rows[p] and b1 + rows[p] (an image operand needs no packed copy).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static unsafe void TileInPlace(int kc, ref T a, T* b0, T* b1, nint* rows, ref T c0, ref T c1, nint ldc, bool overwrite)
    {
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            nint row = rows[p];
            var v0 = Vector512.Load(b0 + row);
            var v1 = Vector512.Load(b1 + row);
            var x = Vector512.Create(a); c00 = Fma(x, v0, c00); c01 = Fma(x, v1, c01);
            x = Vector512.Create(Unsafe.Add(ref a, 1)); c10 = Fma(x, v0, c10); c11 = Fma(x, v1, c11);
            x = Vector512.Create(Unsafe.Add(ref a, 2)); c20 = Fma(x, v0, c20); c21 = Fma(x, v1, c21);
            x = Vector512.Create(Unsafe.Add(ref a, 3)); c30 = Fma(x, v0, c30); c31 = Fma(x, v1, c31);
            x = Vector512.Create(Unsafe.Add(ref a, 4)); c40 = Fma(x, v0, c40); c41 = Fma(x, v1, c41);
            x = Vector512.Create(Unsafe.Add(ref a, 5)); c50 = Fma(x, v0, c50); c51 = Fma(x, v1, c51);
            x = Vector512.Create(Unsafe.Add(ref a, 6)); c60 = Fma(x, v0, c60); c61 = Fma(x, v1, c61);
            x = Vector512.Create(Unsafe.Add(ref a, 7)); c70 = Fma(x, v0, c70); c71 = Fma(x, v1, c71);
            a = ref Unsafe.Add(ref a, 8);
        }
        Store(ref c0, ref c1, 0, c00, c01, overwrite);
        Store(ref c0, ref c1, ldc, c10, c11, overwrite);
        Store(ref c0, ref c1, 2 * ldc, c20, c21, overwrite);
        Store(ref c0, ref c1, 3 * ldc, c30, c31, overwrite);
        Store(ref c0, ref c1, 4 * ldc, c40, c41, overwrite);
        Store(ref c0, ref c1, 5 * ldc, c50, c51, overwrite);
        Store(ref c0, ref c1, 6 * ldc, c60, c61, overwrite);
        Store(ref c0, ref c1, 7 * ldc, c70, c71, overwrite);
    }

    // 8 rows x 2 vectors: 16 accumulators + 2 B vectors + 1 broadcast of the 32 AVX-512 registers.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile512(int kc, ref T a, ref T b, ref T c0, ref T c1, nint ldc, bool overwrite)
    {
        nint w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.LoadUnsafe(ref b);
            var b1 = Vector512.LoadUnsafe(ref b, (nuint)w);
            var x = Vector512.Create(a); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector512.Create(Unsafe.Add(ref a, 1)); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector512.Create(Unsafe.Add(ref a, 2)); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector512.Create(Unsafe.Add(ref a, 3)); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector512.Create(Unsafe.Add(ref a, 4)); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector512.Create(Unsafe.Add(ref a, 5)); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            x = Vector512.Create(Unsafe.Add(ref a, 6)); c60 = Fma(x, b0, c60); c61 = Fma(x, b1, c61);
            x = Vector512.Create(Unsafe.Add(ref a, 7)); c70 = Fma(x, b0, c70); c71 = Fma(x, b1, c71);
            a = ref Unsafe.Add(ref a, 8);
            b = ref Unsafe.Add(ref b, 2 * w);
        }
        Store(ref c0, ref c1, 0, c00, c01, overwrite);
        Store(ref c0, ref c1, ldc, c10, c11, overwrite);
        Store(ref c0, ref c1, 2 * ldc, c20, c21, overwrite);
        Store(ref c0, ref c1, 3 * ldc, c30, c31, overwrite);
        Store(ref c0, ref c1, 4 * ldc, c40, c41, overwrite);
        Store(ref c0, ref c1, 5 * ldc, c50, c51, overwrite);
        Store(ref c0, ref c1, 6 * ldc, c60, c61, overwrite);
        Store(ref c0, ref c1, 7 * ldc, c70, c71, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref T c0, ref T c1, nint at, Vector512<T> v0, Vector512<T> v1, bool overwrite)
    {
        ref T left = ref Unsafe.Add(ref c0, at);
        ref T right = ref Unsafe.Add(ref c1, at);
        if (!overwrite)
        {
            v0 += Vector512.LoadUnsafe(ref left);
            v1 += Vector512.LoadUnsafe(ref right);
        }
        v0.StoreUnsafe(ref left);
        v1.StoreUnsafe(ref right);
    }

    // 6 rows x 2 vectors: 12 accumulators, fits the 16 registers of AVX2 (and NEON's 32).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TileVec(int kc, ref T a, ref T b, ref T c0, ref T c1, nint ldc, bool overwrite)
    {
        nint w = Vector<T>.Count;
        Vector<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector.LoadUnsafe(ref b);
            var b1 = Vector.LoadUnsafe(ref b, (nuint)w);
            var x = new Vector<T>(a); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = new Vector<T>(Unsafe.Add(ref a, 1)); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = new Vector<T>(Unsafe.Add(ref a, 2)); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = new Vector<T>(Unsafe.Add(ref a, 3)); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = new Vector<T>(Unsafe.Add(ref a, 4)); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = new Vector<T>(Unsafe.Add(ref a, 5)); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            a = ref Unsafe.Add(ref a, 6);
            b = ref Unsafe.Add(ref b, 2 * w);
        }
        Store(ref c0, ref c1, 0, c00, c01, overwrite);
        Store(ref c0, ref c1, ldc, c10, c11, overwrite);
        Store(ref c0, ref c1, 2 * ldc, c20, c21, overwrite);
        Store(ref c0, ref c1, 3 * ldc, c30, c31, overwrite);
        Store(ref c0, ref c1, 4 * ldc, c40, c41, overwrite);
        Store(ref c0, ref c1, 5 * ldc, c50, c51, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref T c0, ref T c1, nint at, Vector<T> v0, Vector<T> v1, bool overwrite)
    {
        ref T left = ref Unsafe.Add(ref c0, at);
        ref T right = ref Unsafe.Add(ref c1, at);
        if (!overwrite)
        {
            v0 += Vector.LoadUnsafe(ref left);
            v1 += Vector.LoadUnsafe(ref right);
        }
        v0.StoreUnsafe(ref left);
        v1.StoreUnsafe(ref right);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileScalar(int kc, ref T a, ref T b, ref T c0, ref T c1, nint ldc, bool overwrite)
    {
        Span<T> acc = stackalloc T[16];
        acc.Clear();
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                T x = Unsafe.Add(ref a, p * 4 + i);
                for (int j = 0; j < 4; j++) acc[i * 4 + j] = T.FusedMultiplyAdd(x, Unsafe.Add(ref b, p * 4 + j), acc[i * 4 + j]);
            }
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                ref T dst = ref Unsafe.Add(ref j < 2 ? ref c0 : ref c1, i * ldc + j % 2);
                dst = overwrite ? acc[i * 4 + j] : dst + acc[i * 4 + j];
            }
    }
}
