using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// 2-D convolution (cross-correlation, as PyTorch) with a square kernel, stride, zero padding,
/// dilation and groups; weight [out, in/groups, k, k], optional bias [out].
/// CPU reference: per group one GEMM over the whole batch, weight * im2col(x), with the im2col
/// matrix packed straight from the images; the GEMM splits its output over the cores.
/// </summary>
public sealed partial class Conv2d : Op
{
    public Conv2d(int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true,
        InitKind weightInit = InitKind.HeNormal)
    {
        if (weightInit is not (InitKind.HeNormal or InitKind.Glorot))
            throw new ArgumentOutOfRangeException(nameof(weightInit), weightInit, "a conv weight is initialised He-normal or Glorot-uniform");
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilation, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        OutChannels = outChannels; Kernel = kernel; Stride = stride; Padding = padding; Dilation = dilation; Groups = groups; HasBias = bias; WeightInit = weightInit;
    }

    public int OutChannels { get; }
    public int Kernel { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public bool HasBias { get; }
    /// <summary>He-normal (fan in) by default; Glorot-uniform (fan in and fan out over the kernel window) for nets that specify it, e.g. VGG.</summary>
    public InitKind WeightInit { get; }

    public override string Type => "conv";
    public override bool BackwardReadsInput(int input) => input == 0;
    public override bool BackwardReadsOutput(int output) => false;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        if (inputs.Length != 1) throw Bad($"takes one input, got {inputs.Length}");
        var x = inputs[0];
        if (x.Rank != 4) throw Bad($"needs an NCHW input (rank 4), got rank {x.Rank}");
        if (x[1] % Groups != 0) throw Bad($"{x[1]} input channels are not divisible by {Groups} groups");
        if (OutChannels % Groups != 0) throw Bad($"{OutChannels} output channels are not divisible by {Groups} groups");
        var g = Geometry(x);
        if (g.Height + 2 * Padding < g.Span || g.Width + 2 * Padding < g.Span)
        {
            string padded = Padding == 0 ? "" : $" (padded by {Padding}: {x[2] + 2 * Padding}x{x[3] + 2 * Padding})";
            string dilated = Dilation == 1 ? "" : $" (dilated by {Dilation}: spans {g.Span}x{g.Span})";
            throw Bad($"input {x[2]}x{x[3]}{padded} is smaller than the {Kernel}x{Kernel} kernel{dilated}");
        }
        return [new Shape(x[0], OutChannels, g.OutHeight, g.OutWidth)];
    }

    public override ParamSpec[] Parameters(Shape[] inputs)
    {
        int perGroup = inputs[0][1] / Groups;
        int window = Kernel * Kernel;
        var init = WeightInit == InitKind.Glorot ? Init.Glorot(perGroup * window, OutChannels / Groups * window) : Init.He(perGroup * window);
        var weight = new ParamSpec("weight", new Shape(OutChannels, perGroup, Kernel, Kernel), init);
        return HasBias ? [weight, new ParamSpec("bias", new Shape(OutChannels), Init.Zeros)] : [weight];
    }

    public override long MultiplyAccumulates(Shape[] inputs, Shape[] outputs)
        => outputs[0].Numel * (inputs[0][1] / Groups) * Kernel * Kernel;

    public override (string Filters, string Size) Describe()
    {
        string size = $"{Kernel}x{Kernel}";
        if (Stride != 1) size += $"/{Stride}";
        if (Dilation != 1) size += $" d{Dilation}";
        if (Groups != 1) size += $" g{Groups}";
        return (OutChannels.ToString(), size);
    }

    private ConvGeometry Geometry(Shape x) => new(x[1], x[2], x[3], Kernel, Stride, Padding, Dilation);

    /// <summary>The input (and its gradient) may be a channel slice of a concatenation: images a sample stride apart.</summary>
    public override bool ReadsStridedInput(int input) => true;
    public override bool OverwritesInputGradient(int input) => true;
    public override bool ParameterIsProductOperand(int param) => param == 0;

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        Forward(n.InShape(0), n.In(0), n.Param(0), HasBias ? n.Param(1) : default, n.Out(0), n.InSampleStride(0));
    }

    /// <param name="xStride">Elements from one image of x to the next.</param>
    internal unsafe void Forward<T>(Shape inShape, ReadOnlySpan<T> x, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> y, long xStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry(inShape);
        int batch = inShape[0], inPerGroup = g.Channels / Groups, outPerGroup = OutChannels / Groups;
        int rows = inPerGroup * Kernel * Kernel, outPixels = g.OutPixels;
        var groupGeometry = g with { Channels = inPerGroup };
        int paddedPlane = (g.Height + 2 * Padding) * (g.Width + 2 * Padding);
        var padBuffer = Workspace<T>.Padded(PaddedImages.Size(batch, g.Channels, g.Height, g.Width, Padding));
        fixed (T* px = x, pw = weight, py = y, buffer = padBuffer)
        {
            T* padded = PaddedImages.Pad(px, batch, g.Channels, g.Height, g.Width, Padding, buffer, xStride), w = pw, output = py;
            long imageStride = Padding == 0 ? xStride : (long)g.Channels * paddedPlane;
            ForEachGroup((grp, parallel) => GemmDriver<T>.Run(outPerGroup, batch * outPixels, rows,
                new MatrixOperand<T>(w + grp * outPerGroup * rows, rows),
                new Im2ColOperand<T>(padded + grp * inPerGroup * paddedPlane, checked((int)imageStride), groupGeometry),
                MatrixOperand<T>.Images(output + grp * outPerGroup * outPixels, OutChannels, outPixels),
                accumulate: false, parallel));
        }
        if (HasBias) AddBias(y, bias, batch, outPixels);
    }

    /// <summary>y[img, o, :] += bias[o], output channels in parallel.</summary>
    private unsafe void AddBias<T>(Span<T> y, ReadOnlySpan<T> bias, int batch, int outPixels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* py = y, pb = bias)
        {
            T* outputs = py, biases = pb;
            ParallelWork.For(OutChannels, (long)batch * outPixels, o =>
            {
                for (int img = 0; img < batch; img++)
                    SpanMath.AddScalar(new Span<T>(outputs + ((long)img * OutChannels + o) * outPixels, outPixels), biases[o]);
            });
        }
    }

    /// <summary>biasGrad[o] += the sum of dY[img, o, :] for each image in turn, output channels in parallel.</summary>
    private unsafe void AccumulateBiasGradient<T>(ReadOnlySpan<T> dy, Span<T> biasGrad, int batch, int outPixels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pdy = dy, pg = biasGrad)
        {
            T* outGrads = pdy, grads = pg;
            ParallelWork.For(OutChannels, (long)batch * outPixels, o =>
            {
                for (int img = 0; img < batch; img++)
                    grads[o] += SpanMath.Sum<T>(new ReadOnlySpan<T>(outGrads + ((long)img * OutChannels + o) * outPixels, outPixels));
            });
        }
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        var inShape = n.InShape(0);
        long xStride = n.InSampleStride(0);
        WeightGradient(inShape, n.In(0), n.OutGrad(0), n.ParamGrad(0), xStride);
        if (HasBias) AccumulateBiasGradient(n.OutGrad(0), n.ParamGrad(1), n.Batch, n.OutShape(0)[2] * n.OutShape(0)[3]);
        if (!n.HasInGrad(0)) return;
        InputGradient(inShape, n.OutGrad(0), n.Param(0), n.InGrad(0), xStride, n.OverwriteInGrad(0));
    }

    /// <summary>dX (=, or += unless <paramref name="overwrite"/>) from dY and the weights, by the path that suits the layer.</summary>
    internal void InputGradient<T>(Shape inShape, ReadOnlySpan<T> dy, ReadOnlySpan<T> weight, Span<T> inputGrad, long dxStride, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (IsPointwise) InputGradientPointwise(inShape, dy, weight, inputGrad, dxStride, overwrite);
        else if (Stride == 1 && Padding <= (Kernel - 1) * Dilation) InputGradientAsConvolution(inShape, dy, weight, inputGrad, dxStride, overwrite);
        else InputGradientByFolding(inShape, dy, weight, inputGrad, dxStride, overwrite);
    }

    /// <summary>dW[o, (c, ky, kx)] += sum over images and pixels of dY[o, pixel] * columns[(c, ky, kx), pixel], per group.</summary>
    internal unsafe void WeightGradient<T>(Shape inShape, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> weightGrad, long xStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry(inShape);
        int batch = inShape[0], inPerGroup = g.Channels / Groups, outPerGroup = OutChannels / Groups;
        int rows = inPerGroup * Kernel * Kernel, outPixels = g.OutPixels;
        int pixels = batch * outPixels;
        var groupGeometry = g with { Channels = inPerGroup };
        // Both operands run along pixels. With many pixels per output channel, dot products along
        // them win; otherwise the blocked GEMM, whose transposing copies cost little per output channel.
        bool dotProducts = pixels >= 64 * outPerGroup;
        int paddedPlane = (g.Height + 2 * Padding) * (g.Width + 2 * Padding);
        var padBuffer = Workspace<T>.Padded(PaddedImages.Size(batch, g.Channels, g.Height, g.Width, Padding));
        fixed (T* px = x, pdy = dy, pdw = weightGrad, buffer = padBuffer)
        {
            T* padded = PaddedImages.Pad(px, batch, g.Channels, g.Height, g.Width, Padding, buffer, xStride), outGrads = pdy, weightGrads = pdw;
            ForEachGroup((grp, parallel) =>
            {
                T* groupOutGrads = outGrads + (long)grp * outPerGroup * outPixels;
                var outGrad = MatrixOperand<T>.Images(groupOutGrads, OutChannels, outPixels);
                T* images = padded + grp * inPerGroup * paddedPlane;
                long imageStride = Padding == 0 ? xStride : (long)g.Channels * paddedPlane;
                T* gradient = weightGrads + grp * outPerGroup * rows;
                if (dotProducts && WeightGradientInPlace<T>.Fits(groupGeometry))
                    WeightGradientInPlace<T>.Run(outPerGroup, batch, groupOutGrads, (long)OutChannels * outPixels, images, imageStride, groupGeometry,
                        gradient, rows, parallel);
                else if (dotProducts)
                    GemmNT<T>.Run(outPerGroup, rows, pixels, outGrad, new Im2ColOperand<T>(images, checked((int)imageStride), groupGeometry),
                        gradient, rows, parallel);
                else
                    GemmDriver<T>.Run(outPerGroup, rows, pixels, outGrad, new Im2ColOperand<T>(images, checked((int)imageStride), groupGeometry, transposed: true),
                        new MatrixOperand<T>(gradient, rows), accumulate: true, parallel);
            });
        }
    }

    /// <summary>A 1x1 convolution at stride 1 without padding: per group a plain product of the weights and the images' channels.</summary>
    private bool IsPointwise => Kernel == 1 && Stride == 1 && Padding == 0;

    /// <summary>Pointwise: dX = W^T * dY per group, straight from the stored weights (no flipped copy, no im2col).</summary>
    internal unsafe void InputGradientPointwise<T>(Shape inShape, ReadOnlySpan<T> dy, ReadOnlySpan<T> weight, Span<T> inputGrad, long dxStride, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = inShape[0], inPerGroup = inShape[1] / Groups, outPerGroup = OutChannels / Groups, plane = inShape[2] * inShape[3];
        fixed (T* pdy = dy, pw = weight, pdx = inputGrad)
        {
            T* w = pw, outGrads = pdy, inGrads = pdx;
            ForEachGroup((grp, parallel) => GemmDriver<T>.Run(inPerGroup, batch * plane, outPerGroup,
                new MatrixOperand<T>(w + (long)grp * outPerGroup * inPerGroup, inPerGroup, transposed: true),
                MatrixOperand<T>.Images(outGrads + (long)grp * outPerGroup * plane, OutChannels, plane),
                new MatrixOperand<T>(inGrads + (long)grp * inPerGroup * plane, plane, blockCols: plane, blockStride: dxStride),
                accumulate: !overwrite, parallel));
        }
    }

    /// <summary>
    /// At stride 1 the input gradient is itself a convolution: of dY with the kernel flipped and
    /// in/out channels swapped, padded by (k-1)*d - pad. That reuses the implicit-im2col GEMM.
    /// </summary>
    internal unsafe void InputGradientAsConvolution<T>(Shape inShape, ReadOnlySpan<T> dy, ReadOnlySpan<T> weight, Span<T> inputGrad, long dxStride, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Geometry(inShape);
        int batch = inShape[0], inPerGroup = g.Channels / Groups, outPerGroup = OutChannels / Groups, kk = Kernel * Kernel;
        int outPixels = g.OutPixels, inPlane = g.Height * g.Width;
        int pad = (Kernel - 1) * Dilation - Padding;
        var transposed = new ConvGeometry(outPerGroup, g.OutHeight, g.OutWidth, Kernel, 1, pad, Dilation);
        int paddedPlane = (g.OutHeight + 2 * pad) * (g.OutWidth + 2 * pad);
        var padBuffer = Workspace<T>.Padded(PaddedImages.Size(batch, OutChannels, g.OutHeight, g.OutWidth, pad));
        fixed (T* pdy = dy, pw = weight, pdx = inputGrad, buffer = padBuffer)
        {
            T* padded = PaddedImages.Pad(pdy, batch, OutChannels, g.OutHeight, g.OutWidth, pad, buffer), w = pw, inGrads = pdx;
            ForEachGroup((grp, parallel) => GemmDriver<T>.Run(inPerGroup, batch * inPlane, outPerGroup * kk,
                new FlippedKernelsOperand<T>(w + (long)grp * outPerGroup * inPerGroup * kk, inPerGroup, kk),
                new Im2ColOperand<T>(padded + grp * outPerGroup * paddedPlane, OutChannels * paddedPlane, transposed),
                new MatrixOperand<T>(inGrads + grp * inPerGroup * inPlane, inPlane, blockCols: inPlane, blockStride: dxStride),
                accumulate: !overwrite, parallel));
        }
    }

    /// <summary>Strided convolutions: column gradients W^T * dY for a few images at a time, folded back onto dX.</summary>
    internal unsafe void InputGradientByFolding<T>(Shape inShape, ReadOnlySpan<T> dy, ReadOnlySpan<T> weight, Span<T> inputGrad, long dxStride, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (overwrite)
            for (int img = 0; img < inShape[0]; img++) inputGrad.Slice((int)(img * dxStride), (int)(inShape.Numel / inShape[0])).Clear();
        var g = Geometry(inShape);
        int batch = inShape[0], inPerGroup = g.Channels / Groups, outPerGroup = OutChannels / Groups;
        int rows = inPerGroup * Kernel * Kernel, outPixels = g.OutPixels, inPlane = g.Height * g.Width;
        var groupGeometry = g with { Channels = inPerGroup };
        long perImage = (long)g.ColumnRows * outPixels;
        int imagesAtOnce = (int)Math.Clamp(FoldBudget / perImage, 1, batch);
        var columnGrads = Workspace<T>.ColumnGrads(perImage * imagesAtOnce);
        fixed (T* pdy = dy, pw = weight, pcol = columnGrads, pdx = inputGrad)
        {
            T* dyPtr = pdy, dxPtr = pdx, colPtr = pcol;
            for (int first = 0; first < batch; first += imagesAtOnce)
            {
                int count = Math.Min(imagesAtOnce, batch - first);
                T* w = pw, outGrads = dyPtr + (long)first * OutChannels * outPixels;
                ForEachGroup((grp, parallel) => GemmDriver<T>.Run(rows, count * outPixels, outPerGroup,
                    new MatrixOperand<T>(w + grp * outPerGroup * rows, rows, transposed: true),
                    MatrixOperand<T>.Images(outGrads + grp * outPerGroup * outPixels, OutChannels, outPixels),
                    MatrixOperand<T>.Images(colPtr + (long)grp * rows * outPixels, g.ColumnRows, outPixels),
                    accumulate: false, parallel));
                // Each image folds into its own slice of dX: parallel and still deterministic.
                WorkerTeam.Shared.For(count * Groups, item =>
                {
                    int img = item / Groups, grp = item % Groups;
                    var cols = new ReadOnlySpan<T>(colPtr + img * perImage + (long)grp * rows * outPixels, rows * outPixels);
                    var target = new Span<T>(dxPtr + (long)(first + img) * dxStride + (long)grp * inPerGroup * inPlane, inPerGroup * inPlane);
                    Im2Col.FoldAdd(groupGeometry, cols, target);
                });
            }
        }
    }

    /// <summary>
    /// Runs body(group, parallelGemm) for every group: several groups run side by side with
    /// serial GEMMs (they write disjoint outputs); a single group's GEMM splits over the cores.
    /// </summary>
    private void ForEachGroup(Action<int, bool> body)
    {
        if (Groups == 1) body(0, true);
        else WorkerTeam.Shared.For(Groups, grp => body(grp, false));
    }

    /// <summary>Elements of column gradients held at once by the folding input-gradient path (settable for tests).</summary>
    internal static long FoldBudget { get; set; } = 1 << 22;
}

public static partial class Layers
{
    /// <summary>Convolution with weight [out, in/groups, k, k] (He-normal unless <paramref name="weightInit"/> says Glorot) and zero bias [out].</summary>
    public static Value Conv2d(this GraphBuilder b, Value x, int outChannels, int kernel, int stride = 1, int padding = 0,
        int dilation = 1, int groups = 1, bool bias = true, string? name = null, InitKind weightInit = InitKind.HeNormal)
        => b.Add1(new Conv2d(outChannels, kernel, stride, padding, dilation, groups, bias, weightInit), name ?? b.Unique("conv"), x);
}
