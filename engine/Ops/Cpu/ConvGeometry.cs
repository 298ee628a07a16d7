namespace Engine.Ops.Cpu;

/// <summary>
/// Sizes of one image's 2-D convolution (square kernel): input C x H x W, output spatial size,
/// and the column matrix of im2col, whose row (c, ky, kx) holds the input value each output
/// pixel sees through kernel tap (ky, kx) of channel c, zero where the tap falls in the padding.
/// </summary>
public readonly record struct ConvGeometry(int Channels, int Height, int Width, int Kernel, int Stride, int Padding, int Dilation)
{
    public int OutHeight => OutSize(Height);
    public int OutWidth => OutSize(Width);
    public int OutPixels => OutHeight * OutWidth;
    /// <summary>Rows of the column matrix: Channels * Kernel * Kernel.</summary>
    public int ColumnRows => Channels * Kernel * Kernel;
    /// <summary>Extent of the dilated kernel: (Kernel - 1) * Dilation + 1.</summary>
    public int Span => (Kernel - 1) * Dilation + 1;

    /// <summary>
    /// Where column-matrix row <paramref name="row"/> = (c, ky, kx) starts in an image padded by Padding on every
    /// side: at output pixel (0, 0) it reads padded (c, ky * Dilation, kx * Dilation).
    /// </summary>
    public int PaddedTapOffset(int row)
    {
        int width = Width + 2 * Padding, plane = (Height + 2 * Padding) * width, kk = Kernel * Kernel;
        return row / kk * plane + row % kk / Kernel * Dilation * width + row % Kernel * Dilation;
    }

    private int OutSize(int size) => (size + 2 * Padding - Span) / Stride + 1;

    /// <summary>
    /// The output columns [lo, hi) whose input column ox * Stride - Padding + offset lies inside
    /// 0..Width-1, for a tap at horizontal <paramref name="offset"/> = kx * Dilation.
    /// </summary>
    public (int Lo, int Hi) ValidColumns(int offset) => ValidRange(offset, Width, OutWidth);

    /// <summary>As <see cref="ValidColumns"/> for output rows and input rows.</summary>
    public (int Lo, int Hi) ValidRows(int offset) => ValidRange(offset, Height, OutHeight);

    private (int, int) ValidRange(int offset, int inSize, int outSize)
    {
        // o * Stride - Padding + offset in [0, inSize)  <=>  o in [ceil((Padding - offset) / Stride), ceil((inSize + Padding - offset) / Stride))
        int lo = CeilDiv(Padding - offset, Stride);
        int hi = CeilDiv(inSize + Padding - offset, Stride);
        return (Math.Clamp(lo, 0, outSize), Math.Clamp(hi, 0, outSize));
    }

    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);
}
