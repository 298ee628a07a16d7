using System.Numerics;
using System.Runtime.CompilerServices;

namespace Engine.Ops.Cpu;

/// <summary>
/// A stored matrix, optionally used transposed. Its columns may come in blocks at a stride:
/// element (r, c) lies at <c>(c / BlockCols) * BlockStride + r * Ld + c % BlockCols</c>.
/// That is how a batch of NCHW images reads as one [C x N*H*W] matrix (Ld = BlockCols = H*W,
/// BlockStride = C*H*W); a plain row-major matrix is a single block.
/// </summary>
internal readonly unsafe struct MatrixOperand<T> : IGemmOperand<T>, IRowSource<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _data;
    private readonly int _ld, _blockCols;
    private readonly long _blockStride;
    private readonly bool _transposed;

    public MatrixOperand(T* data, int ld, bool transposed = false, int blockCols = int.MaxValue, long blockStride = 0)
    {
        _data = data; _ld = ld; _transposed = transposed; _blockCols = blockCols; _blockStride = blockStride;
    }

    /// <summary>A batch of images [N, C, H, W] as the matrix [C x N*H*W].</summary>
    public static MatrixOperand<T> Images(T* data, int channels, int pixels, bool transposed = false)
        => new(data, pixels, transposed, pixels, (long)channels * pixels);

    public int Ld => _ld;
    public int BlockCols => _blockCols;

    public T* At(int r, int c) => _data + (c / _blockCols) * _blockStride + (long)r * _ld + c % _blockCols;

    /// <summary>Stored row r, columns c..c+count, to dst at a stride (crossing column blocks as needed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyRow(int r, int c, int count, T* dst, int dstStride)
    {
        T* src = At(r, c);
        int blockLeft = _blockCols - c % _blockCols;
        while (true)
        {
            int run = Math.Min(count, blockLeft);
            PackCopy<T>.Copy(src, dst, run, dstStride);
            count -= run;
            if (count == 0) return;
            dst += (nint)run * dstStride;
            src += run - _blockCols + _blockStride;
            blockLeft = _blockCols;
        }
    }

    /// <summary>
    /// Stored rows s0..s0+depth, columns x0..x0+len, packed with the columns across panels of
    /// width w: element (s0 + p, x0 + t) goes to panel t / w, row p, slot t % w.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackColumnsAcrossPanels(int s0, int depth, int x0, int len, int w, T* dst)
    {
        int panelSize = w * depth;
        for (int p = 0; p < depth; p++)
        {
            T* src = At(s0 + p, x0);
            T* panel = dst + (nint)p * w;
            int blockLeft = _blockCols - x0 % _blockCols, inPanel = 0, left = len;
            while (left > 0)
            {
                int run = Math.Min(left, Math.Min(w - inPanel, blockLeft));
                PackCopy<T>.Copy(src, panel + inPanel, run, 1);
                left -= run;
                inPanel += run;
                blockLeft -= run;
                src += run;
                if (inPanel == w) { inPanel = 0; panel += panelSize; }
                if (blockLeft == 0) { src += _blockStride - _blockCols; blockLeft = _blockCols; }
            }
            if (inPanel > 0) PackCopy<T>.Zero(panel + inPanel, w - inPanel, 1);
        }
    }

    /// <summary>
    /// Stored rows x0..x0+len, columns s0..s0+depth, packed with the rows across panels of
    /// width w: element (x0 + t, s0 + p) goes to panel t / w, row p, slot t % w.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackRowsAcrossPanels(int x0, int len, int s0, int depth, int w, T* dst)
    {
        int panelSize = w * depth, t = 0;
        if (typeof(T) == typeof(float) && PanelTranspose.Supported && _blockCols == int.MaxValue && w % 8 == 0)
            for (; t + 8 <= len; t += 8)
                PanelTranspose.EightRows((float*)At(x0 + t, s0), _ld, depth, (float*)(dst + (nint)(t / w) * panelSize + t % w), w);
        for (; t < len; t++) CopyRow(x0 + t, s0, depth, dst + (nint)(t / w) * panelSize + t % w, w);
        int used = len % w;
        if (used == 0) return;
        T* last = dst + (nint)(len / w) * panelSize;
        for (int p = 0; p < depth; p++) PackCopy<T>.Zero(last + (nint)p * w + used, w - used, 1);
    }

    public void PackA(int i0, int mb, int p0, int kc, int mr, T* dst)
    {
        if (_transposed) PackColumnsAcrossPanels(p0, kc, i0, mb, mr, dst);
        else PackRowsAcrossPanels(i0, mb, p0, kc, mr, dst);
    }

    public void PackB(int p0, int kc, int j0, int nb, int nr, T* dst)
    {
        if (_transposed) PackRowsAcrossPanels(j0, nb, p0, kc, nr, dst);
        else PackColumnsAcrossPanels(p0, kc, j0, nb, nr, dst);
    }

    /// <summary>Batches of images (column blocks of whole half panels) read in place; plain matrices are packed.</summary>
    public bool ReadsInPlace(int nr) => !_transposed && _blockCols != int.MaxValue && _blockCols % (nr / 2) == 0;

    public T* HalfPanel(int j) => At(0, j);

    public void RowOffsets(int p0, int kc, nint* offsets)
    {
        for (int p = 0; p < kc; p++) offsets[p] = (nint)(p0 + p) * _ld;
    }

    public void CopyRows(int r0, int rows, int c0, int count, T* dst, int dstStride)
    {
        if (_transposed) throw new NotSupportedException("row copies of a transposed operand");
        for (int r = 0; r < rows; r++) CopyRow(r0 + r, c0, count, dst + (nint)r * dstStride, 1);
    }
}
