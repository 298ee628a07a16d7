using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Ops.Cpu;

/// <summary>
/// The left operand of a stride-1 input gradient computed as a convolution: row ci, column
/// (o, t) holds weight[o][ci][kk-1-t] of one group, the kernels flipped with input and output
/// channels swapped. Packed straight from the stored weights, so no flipped copy of every
/// kernel is written and read back each step. A full panel of eight float rows comes from one
/// contiguous block per output channel (eight rows' kk taps): eight taps at a time by an
/// in-register transpose, the rest a tap at a time by a gather.
/// </summary>
internal readonly unsafe struct FlippedKernelsOperand<T> : IGemmOperand<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _weights;
    private readonly int _inPerGroup, _taps;

    /// <param name="weights">The group's first output channel: [outPerGroup][inPerGroup][taps].</param>
    public FlippedKernelsOperand(T* weights, int inPerGroup, int taps)
    {
        _weights = weights; _inPerGroup = inPerGroup; _taps = taps;
    }

    public void PackA(int i0, int mb, int p0, int kc, int mr, T* dst)
    {
        for (int q = 0; q * mr < mb; q++)
        {
            int rows = Math.Min(mr, mb - q * mr);
            T* panel = dst + (nint)q * mr * kc;
            if (typeof(T) == typeof(float) && Avx2.IsSupported && mr == 8 && rows == 8)
                GatherPanel((float*)_weights, i0 + q * mr, p0, kc, (float*)panel);
            else
                CopyPanel(i0 + q * mr, rows, p0, kc, mr, panel);
        }
    }

    public void PackB(int p0, int kc, int j0, int nb, int nr, T* dst) => throw new NotSupportedException("flipped kernels are only a left-hand GEMM operand");
    public bool ReadsInPlace(int nr) => false;
    public T* HalfPanel(int j) => throw new NotSupportedException("flipped kernels are only a left-hand GEMM operand");
    public void RowOffsets(int p0, int kc, nint* offsets) => throw new NotSupportedException("flipped kernels are only a left-hand GEMM operand");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void GatherPanel(float* weights, int ci0, int p0, int kc, float* panel)
    {
        int kk = _taps;
        var rowStarts = Vector256.Create(0, kk, 2 * kk, 3 * kk, 4 * kk, 5 * kk, 6 * kk, 7 * kk);
        for (int p = 0; p < kc;)
        {
            int column = p0 + p, o = column / kk, t = column % kk;
            float* rows = weights + ((long)o * _inPerGroup + ci0) * kk;
            int count = Math.Min(kk - t, kc - p), u = 0;
            // Eight taps at once: an 8x8 block of the eight rows, transposed and stored bottom-up (the flip).
            for (; u + 8 <= count; u += 8)
                PanelTranspose.Block(rows + (kk - 8 - t - u), kk, panel + (nint)(p + u + 7) * 8, -8);
            for (; u < count; u++)
                Avx.Store(panel + (nint)(p + u) * 8, Avx2.GatherVector256(rows + (kk - 1 - t - u), rowStarts, 4));
            p += count;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyPanel(int ci0, int rows, int p0, int kc, int mr, T* panel)
    {
        int kk = _taps;
        for (int p = 0; p < kc; p++)
        {
            int column = p0 + p, o = column / kk, t = column % kk;
            T* source = _weights + ((long)o * _inPerGroup + ci0) * kk + (kk - 1 - t);
            T* slot = panel + (nint)p * mr;
            for (int r = 0; r < rows; r++) slot[r] = source[(nint)r * kk];
            for (int r = rows; r < mr; r++) slot[r] = T.Zero;
        }
    }
}
