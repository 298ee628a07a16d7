using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// The convolution's CPU path in NHWC (x [N, H, W, C], y [N, OH, OW, O], weights still [O, C/g, k, k]).
/// One group: a GEMM over pixels (im2row written out, a few images at a time), Y[pixels x O] = A[pixels x (ky, kx, c)] * Wr^T, where A
/// is the im2row matrix (each row the window of one output pixel, channels contiguous as in x) and
/// Wr the weights repacked per call to [O, ky, kx, c]; dW and dX are the two other products (dX by
/// folding dA back onto the image); a pointwise (1x1, stride 1, unpadded) one uses x and W as they
/// lie. Several groups (depthwise): direct loops, channels innermost.
/// </summary>
public sealed partial class Conv2d
{
    /// <summary>Elements of the im2row matrix held at once (images are taken a few at a time; settable for tests).</summary>
    internal static long RowBudget { get; set; } = 1 << 22;

    private const int PackedWeightSlot = 10, RowSlot = 11, RowGradSlot = 12, PackedGradSlot = 13, BiasSumSlot = 14, TapSourceSlot = 15;

    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry(n.InShape(0));
        var x = n.In(0);
        var y = n.Out(0);
        if (Groups == 1 && IsPointwise)
        {
            // A 1x1 convolution at stride 1 unpadded: the image rows are the im2row rows, and W is already [O, C].
            int pixels = n.Batch * g.OutPixels;
            Gemm.Multiply<T>(false, true, pixels, OutChannels, g.Channels, x, g.Channels, n.Param(0), g.Channels, y, OutChannels, accumulate: false, parallel: true);
        }
        else if (Groups == 1)
        {
            var wr = PackWeights(n, n.Param(0), g.Channels);
            int k = Kernel * Kernel * g.Channels;
            var sources = TapSources(n, g);
            int atOnce = ImagesAtOnce(n, g, k);
            for (int first = 0; first < n.Batch; first += atOnce)
            {
                int count = Math.Min(atOnce, n.Batch - first);
                var rows = Rows(n, g, k, count);
                ImToRows(x, g, sources, first, count, 0, g.Channels, rows);
                Gemm.Multiply<T>(false, true, count * g.OutPixels, OutChannels, k, rows, k, wr, k,
                    y.Slice(first * g.OutPixels * OutChannels), OutChannels, accumulate: false, parallel: true);
            }
        }
        else GroupedForward(x, n.Param(0), y, g, TapSources(n, g), n.Batch);
        if (!HasBias) return;
        var bias = n.Param(1);
        for (int r = 0; r < n.Batch * g.OutPixels; r++) SpanMath.AddTo<T>(bias, y.Slice(r * OutChannels, OutChannels));
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry(n.InShape(0));
        var x = n.In(0);
        var dy = n.OutGrad(0);
        bool inputGrad = n.HasInGrad(0);
        if (inputGrad && n.OverwriteInGrad(0) && !(Groups == 1 && IsPointwise)) n.InGrad(0).Clear();
        if (Groups == 1 && IsPointwise)
        {
            int pixels = n.Batch * g.OutPixels;
            Gemm.Multiply<T>(true, false, OutChannels, g.Channels, pixels, dy, OutChannels, x, g.Channels, n.ParamGrad(0), g.Channels, accumulate: true, parallel: true);
            if (inputGrad)
                Gemm.Multiply<T>(false, false, pixels, g.Channels, OutChannels, dy, OutChannels, n.Param(0), g.Channels, n.InGrad(0), g.Channels,
                    accumulate: !n.OverwriteInGrad(0), parallel: true);
        }
        else if (Groups == 1)
        {
            int k = Kernel * Kernel * g.Channels;
            var wr = PackWeights(n, n.Param(0), g.Channels);
            var packedGrad = n.Scratch<T>(PackedGradSlot, (long)OutChannels * k).AsSpan(0, OutChannels * k);
            packedGrad.Clear();
            var sources = TapSources(n, g);
            int atOnce = ImagesAtOnce(n, g, k);
            for (int first = 0; first < n.Batch; first += atOnce)
            {
                int count = Math.Min(atOnce, n.Batch - first);
                var rows = Rows(n, g, k, count);
                int m = count * g.OutPixels;
                var dyChunk = dy.Slice(first * g.OutPixels * OutChannels, m * OutChannels);
                ImToRows(x, g, sources, first, count, 0, g.Channels, rows);
                Gemm.Multiply<T>(true, false, OutChannels, k, m, dyChunk, OutChannels, rows, k, packedGrad, k, accumulate: true, parallel: true);
                if (!inputGrad) continue;
                var rowGrads = n.Scratch<T>(RowGradSlot, (long)m * k).AsSpan(0, m * k);
                Gemm.Multiply<T>(false, false, m, k, OutChannels, dyChunk, OutChannels, wr, k, rowGrads, k, accumulate: false, parallel: true);
                FoldRows(rowGrads, n.InGrad(0), g, sources, first, count);
            }
            UnpackAddWeights(packedGrad, n.ParamGrad(0), g.Channels);
        }
        else
        {
            var sources = TapSources(n, g);
            GroupedWeightGradient(x, dy, n.ParamGrad(0), g, sources, n.Batch);
            if (inputGrad) GroupedInputGradient(dy, n.Param(0), n.InGrad(0), g, sources, n.Batch);
        }
        if (!HasBias) return;
        var biasGrad = n.ParamGrad(1);
        var sums = n.Scratch<T>(BiasSumSlot, OutChannels).AsSpan(0, OutChannels);
        sums.Clear();
        for (int r = 0; r < n.Batch * g.OutPixels; r++) SpanMath.AddTo<T>(dy.Slice(r * OutChannels, OutChannels), sums);
        SpanMath.AddTo<T>(sums, biasGrad);
    }

    /// <summary>Images whose im2row rows fit in <see cref="RowBudget"/> (at least one).</summary>
    private static int ImagesAtOnce<T>(CpuNode<T> n, ConvGeometry g, int k) where T : unmanaged, IFloatingPointIeee754<T> =>
        (int)Math.Clamp(RowBudget / ((long)g.OutPixels * k), 1, n.Batch);

    /// <summary>The node's im2row buffer for <paramref name="count"/> images.</summary>
    private static Span<T> Rows<T>(CpuNode<T> n, ConvGeometry g, int k, int count) where T : unmanaged, IFloatingPointIeee754<T> =>
        n.Scratch<T>(RowSlot, (long)g.OutPixels * k * count).AsSpan(0, g.OutPixels * k * count);

    /// <summary>
    /// For output pixel r and tap t = ky * Kernel + kx, at [r * taps + t]: the input pixel iy * Width + ix the tap reads
    /// (iy = oy*s - p + ky*d, ix = ox*s - p + kx*d), or -1 where it falls in the padding. The same for every image.
    /// </summary>
    private int[] TapSources<T>(CpuNode<T> n, ConvGeometry g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int taps = Kernel * Kernel;
        var sources = n.Scratch<int>(TapSourceSlot, (long)g.OutPixels * taps);
        for (int oy = 0, r = 0; oy < g.OutHeight; oy++)
            for (int ox = 0; ox < g.OutWidth; ox++, r++)
                for (int ky = 0, t = r * taps; ky < Kernel; ky++)
                    for (int kx = 0; kx < Kernel; kx++, t++)
                    {
                        int iy = oy * Stride - Padding + ky * Dilation, ix = ox * Stride - Padding + kx * Dilation;
                        sources[t] = (uint)iy < (uint)g.Height && (uint)ix < (uint)g.Width ? iy * g.Width + ix : -1;
                    }
        return sources;
    }

    /// <summary>Wr[o, ky, kx, c] = W[o, c, ky, kx], the weights in the order of an im2row row.</summary>
    private Span<T> PackWeights<T>(CpuNode<T> n, ReadOnlySpan<T> weight, int inPerGroup) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int taps = Kernel * Kernel, k = taps * inPerGroup;
        var packed = n.Scratch<T>(PackedWeightSlot, (long)OutChannels * k).AsSpan(0, OutChannels * k);
        for (int o = 0; o < OutChannels; o++)
            for (int c = 0; c < inPerGroup; c++)
                for (int t = 0; t < taps; t++) packed[o * k + t * inPerGroup + c] = weight[(o * inPerGroup + c) * taps + t];
        return packed;
    }

    /// <summary>dW[o, c, ky, kx] += Gr[o, ky, kx, c].</summary>
    private void UnpackAddWeights<T>(ReadOnlySpan<T> packed, Span<T> weightGrad, int inPerGroup) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int taps = Kernel * Kernel, k = taps * inPerGroup;
        for (int o = 0; o < OutChannels; o++)
            for (int c = 0; c < inPerGroup; c++)
                for (int t = 0; t < taps; t++) weightGrad[(o * inPerGroup + c) * taps + t] += packed[o * k + t * inPerGroup + c];
    }

    /// <summary>
    /// rows[(img, oy, ox), (ky, kx, c)] = x[first + img, oy*s - p + ky*d, ox*s - p + kx*d, c0 + c] for c &lt; width,
    /// zero where the tap falls in the padding. Parallel over images.
    /// </summary>
    private void ImToRows<T>(ReadOnlySpan<T> x, ConvGeometry g, int[] sources, int first, int count, int c0, int width, Span<T> rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int taps = Kernel * Kernel, k = taps * width, imageSize = g.Height * g.Width * g.Channels;
        unsafe
        {
            fixed (T* px = x, pr = rows)
            {
                T* xs = px, rs = pr;
                WorkerTeam.Shared.For(count, img =>
                {
                    var image = new ReadOnlySpan<T>(xs + (long)(first + img) * imageSize, imageSize);
                    var block = new Span<T>(rs + (long)img * g.OutPixels * k, g.OutPixels * k);
                    for (int r = 0; r < g.OutPixels; r++)
                        for (int t = 0; t < taps; t++)
                        {
                            int source = sources[r * taps + t];
                            var dst = block.Slice(r * k + t * width, width);
                            if (source >= 0) image.Slice(source * g.Channels + c0, width).CopyTo(dst);
                            else dst.Clear();
                        }
                });
            }
        }
    }

    /// <summary>dX[first + img, iy, ix, c] += rowGrads[(img, oy, ox), (ky, kx, c)]: the adjoint of <see cref="ImToRows"/>, each image by one thread.</summary>
    private void FoldRows<T>(ReadOnlySpan<T> rowGrads, Span<T> dx, ConvGeometry g, int[] sources, int first, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int taps = Kernel * Kernel, k = taps * g.Channels, imageSize = g.Height * g.Width * g.Channels;
        unsafe
        {
            fixed (T* pg = rowGrads, pdx = dx)
            {
                T* gs = pg, ds = pdx;
                WorkerTeam.Shared.For(count, img =>
                {
                    var image = new Span<T>(ds + (long)(first + img) * imageSize, imageSize);
                    var block = new ReadOnlySpan<T>(gs + (long)img * g.OutPixels * k, g.OutPixels * k);
                    for (int r = 0; r < g.OutPixels; r++)
                        for (int t = 0; t < taps; t++)
                        {
                            int source = sources[r * taps + t];
                            if (source >= 0) SpanMath.AddTo(block.Slice(r * k + t * g.Channels, g.Channels), image.Slice(source * g.Channels, g.Channels));
                        }
                });
            }
        }
    }

    /// <summary>Grouped forward: y[n, oy, ox, o] = Σ over the group's channels c and taps of x[n, iy, ix, c] * W[o, c - c0, ky, kx]; parallel over images.</summary>
    private void GroupedForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> weight, Span<T> y, ConvGeometry g, int[] sources, int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inPerGroup = g.Channels / Groups, outPerGroup = OutChannels / Groups, taps = Kernel * Kernel;
        int imageSize = g.Height * g.Width * g.Channels, outSize = g.OutPixels * OutChannels;
        unsafe
        {
            fixed (T* px = x, pw = weight, py = y)
            {
                T* xs = px, ws = pw, ys = py;
                WorkerTeam.Shared.For(batch, img =>
                {
                    var image = new ReadOnlySpan<T>(xs + (long)img * imageSize, imageSize);
                    var w = new ReadOnlySpan<T>(ws, OutChannels * inPerGroup * taps);
                    var output = new Span<T>(ys + (long)img * outSize, outSize);
                    for (int r = 0; r < g.OutPixels; r++)
                    {
                        var yRow = output.Slice(r * OutChannels, OutChannels);
                        yRow.Clear();
                        for (int t = 0; t < taps; t++)
                        {
                            int source = sources[r * taps + t];
                            if (source < 0) continue;
                            var pixel = image.Slice(source * g.Channels, g.Channels);
                            for (int o = 0; o < OutChannels; o++)
                            {
                                int c0 = o / outPerGroup * inPerGroup;
                                var sum = T.Zero;
                                for (int c = 0; c < inPerGroup; c++) sum += pixel[c0 + c] * w[(o * inPerGroup + c) * taps + t];
                                yRow[o] += sum;
                            }
                        }
                    }
                });
            }
        }
    }

    /// <summary>Grouped dW[o, c, ky, kx] += Σ over images and output pixels of dy[n, oy, ox, o] * x[n, iy, ix, c0 + c]; parallel over output channels.</summary>
    private void GroupedWeightGradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> weightGrad, ConvGeometry g, int[] sources, int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inPerGroup = g.Channels / Groups, outPerGroup = OutChannels / Groups, taps = Kernel * Kernel;
        unsafe
        {
            fixed (T* px = x, pdy = dy, pdw = weightGrad)
            {
                T* xs = px, dys = pdy, dws = pdw;
                int xLength = x.Length, dyLength = dy.Length;
                WorkerTeam.Shared.For(OutChannels, o =>
                {
                    var xv = new ReadOnlySpan<T>(xs, xLength);
                    var dyv = new ReadOnlySpan<T>(dys, dyLength);
                    var dw = new Span<T>(dws + (long)o * inPerGroup * taps, inPerGroup * taps);
                    int c0 = o / outPerGroup * inPerGroup;
                    for (int c = 0; c < inPerGroup; c++)
                        for (int t = 0; t < taps; t++)
                        {
                            var sum = T.Zero;
                            for (int img = 0; img < batch; img++)
                                for (int r = 0; r < g.OutPixels; r++)
                                {
                                    int source = sources[r * taps + t];
                                    if (source >= 0)
                                        sum += dyv[(img * g.OutPixels + r) * OutChannels + o] * xv[(img * g.Height * g.Width + source) * g.Channels + c0 + c];
                                }
                            dw[c * taps + t] += sum;
                        }
                });
            }
        }
    }

    /// <summary>Grouped dX[n, iy, ix, c] += Σ over the outputs o of c's group and the taps reaching it of dy[n, oy, ox, o] * W[o, c - c0, ky, kx]; each image by one thread.</summary>
    private void GroupedInputGradient<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> weight, Span<T> dx, ConvGeometry g, int[] sources, int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inPerGroup = g.Channels / Groups, outPerGroup = OutChannels / Groups, taps = Kernel * Kernel;
        int imageSize = g.Height * g.Width * g.Channels, outSize = g.OutPixels * OutChannels;
        unsafe
        {
            fixed (T* pdy = dy, pw = weight, pdx = dx)
            {
                T* dys = pdy, ws = pw, dxs = pdx;
                WorkerTeam.Shared.For(batch, img =>
                {
                    var dyImage = new ReadOnlySpan<T>(dys + (long)img * outSize, outSize);
                    var w = new ReadOnlySpan<T>(ws, OutChannels * inPerGroup * taps);
                    var dxImage = new Span<T>(dxs + (long)img * imageSize, imageSize);
                    for (int r = 0; r < g.OutPixels; r++)
                    {
                        var dyRow = dyImage.Slice(r * OutChannels, OutChannels);
                        for (int t = 0; t < taps; t++)
                        {
                            int source = sources[r * taps + t];
                            if (source < 0) continue;
                            var pixel = dxImage.Slice(source * g.Channels, g.Channels);
                            for (int o = 0; o < OutChannels; o++)
                            {
                                int c0 = o / outPerGroup * inPerGroup;
                                var d = dyRow[o];
                                for (int c = 0; c < inPerGroup; c++) pixel[c0 + c] += d * w[(o * inPerGroup + c) * taps + t];
                            }
                        }
                    }
                });
            }
        }
    }
}
