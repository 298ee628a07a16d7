using System.Buffers;
using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// 2-D convolution (cross-correlation, as PyTorch) with a square kernel, stride, zero padding,
/// dilation and groups; weight [out, in/groups, k, k], optional bias [out].
/// CPU reference: per image and group, im2col then one GEMM; images run in parallel chunks.
/// </summary>
public sealed partial class Conv2d : Op
{
    public Conv2d(int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilation, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        OutChannels = outChannels; Kernel = kernel; Stride = stride; Padding = padding; Dilation = dilation; Groups = groups; HasBias = bias;
    }

    public int OutChannels { get; }
    public int Kernel { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public bool HasBias { get; }

    public override string Type => "conv";

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
        var weight = new ParamSpec("weight", new Shape(OutChannels, perGroup, Kernel, Kernel), Init.He(perGroup * Kernel * Kernel));
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

    public override void Forward<T>(CpuNode<T> n)
    {
        var g = Geometry(n.InShape(0));
        int outPixels = g.OutPixels, inSize = g.Channels * g.Height * g.Width, outSize = OutChannels * outPixels;
        int outPerGroup = OutChannels / Groups, rows = g.ColumnRows / Groups;
        var chunks = BatchChunks.For(n.Batch);
        chunks.Run(chunk =>
        {
            var (start, end) = chunks.Range(chunk);
            var x = n.In(0);
            var y = n.Out(0);
            var w = n.Param(0);
            for (int img = start; img < end; img++)
            {
                var image = x.Slice(img * inSize, inSize);
                var columns = g.IsPointwise ? image : Workspace<T>.Columns((long)g.ColumnRows * outPixels);
                if (!g.IsPointwise) Im2Col.Unfold(g, image, columns);
                var output = y.Slice(img * outSize, outSize);
                for (int grp = 0; grp < Groups; grp++)
                    Gemm.Multiply<T>(false, false, outPerGroup, outPixels, rows,
                        w.Slice(grp * outPerGroup * rows, outPerGroup * rows), rows,
                        columns.Slice(grp * rows * outPixels, rows * outPixels), outPixels,
                        output.Slice(grp * outPerGroup * outPixels, outPerGroup * outPixels), outPixels, accumulate: false);
                if (HasBias)
                {
                    var bias = n.Param(1);
                    for (int o = 0; o < OutChannels; o++) SpanMath.AddScalar(output.Slice(o * outPixels, outPixels), bias[o]);
                }
            }
        });
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        var g = Geometry(n.InShape(0));
        int outPixels = g.OutPixels, inSize = g.Channels * g.Height * g.Width, outSize = OutChannels * outPixels;
        int outPerGroup = OutChannels / Groups, rows = g.ColumnRows / Groups;
        int weightCount = OutChannels * rows;
        bool inputGrad = n.HasInGrad(0);
        var chunks = BatchChunks.For(n.Batch);
        // Chunk 0 adds straight into the weight gradient; the others fill partial sums added after, in chunk order.
        var partials = new T[]?[chunks.Count];
        for (int c = 1; c < chunks.Count; c++) partials[c] = ArrayPool<T>.Shared.Rent(weightCount);
        try
        {
            chunks.Run(chunk =>
            {
                var (start, end) = chunks.Range(chunk);
                var x = n.In(0);
                var dy = n.OutGrad(0);
                var w = n.Param(0);
                var dw = chunk == 0 ? n.ParamGrad(0) : partials[chunk].AsSpan(0, weightCount);
                for (int img = start; img < end; img++)
                {
                    var image = x.Slice(img * inSize, inSize);
                    var outGrad = dy.Slice(img * outSize, outSize);
                    var columns = g.IsPointwise ? image : Workspace<T>.Columns((long)g.ColumnRows * outPixels);
                    if (!g.IsPointwise) Im2Col.Unfold(g, image, columns);
                    bool accumulate = chunk == 0 || img > start;
                    for (int grp = 0; grp < Groups; grp++)
                        Gemm.Multiply<T>(false, true, outPerGroup, rows, outPixels,
                            outGrad.Slice(grp * outPerGroup * outPixels, outPerGroup * outPixels), outPixels,
                            columns.Slice(grp * rows * outPixels, rows * outPixels), outPixels,
                            dw.Slice(grp * outPerGroup * rows, outPerGroup * rows), rows, accumulate);
                    if (!inputGrad) continue;

                    var imageGrad = n.InGrad(0).Slice(img * inSize, inSize);
                    // A pointwise conv's column gradient is the image gradient itself: accumulate into it directly.
                    var columnGrads = g.IsPointwise ? imageGrad : Workspace<T>.ColumnGrads((long)g.ColumnRows * outPixels);
                    for (int grp = 0; grp < Groups; grp++)
                        Gemm.Multiply<T>(true, false, rows, outPixels, outPerGroup,
                            w.Slice(grp * outPerGroup * rows, outPerGroup * rows), rows,
                            outGrad.Slice(grp * outPerGroup * outPixels, outPerGroup * outPixels), outPixels,
                            columnGrads.Slice(grp * rows * outPixels, rows * outPixels), outPixels, accumulate: g.IsPointwise);
                    if (!g.IsPointwise) Im2Col.FoldAdd(g, columnGrads, imageGrad);
                }
            });
            var weightGrad = n.ParamGrad(0);
            for (int c = 1; c < chunks.Count; c++) SpanMath.AddTo(partials[c].AsSpan(0, weightCount), weightGrad);
        }
        finally
        {
            for (int c = 1; c < chunks.Count; c++) ArrayPool<T>.Shared.Return(partials[c]!);
        }

        if (HasBias)
        {
            var dy = n.OutGrad(0);
            var biasGrad = n.ParamGrad(1);
            for (int img = 0; img < n.Batch; img++)
                for (int o = 0; o < OutChannels; o++)
                    biasGrad[o] += SpanMath.Sum<T>(dy.Slice(img * outSize + o * outPixels, outPixels));
        }
    }
}

public static partial class Layers
{
    /// <summary>Convolution with He-normal weight [out, in/groups, k, k] and zero bias [out].</summary>
    public static Value Conv2d(this GraphBuilder b, Value x, int outChannels, int kernel, int stride = 1, int padding = 0,
        int dilation = 1, int groups = 1, bool bias = true, string? name = null)
        => b.Add1(new Conv2d(outChannels, kernel, stride, padding, dilation, groups, bias), name ?? b.Unique("conv"), x);
}
