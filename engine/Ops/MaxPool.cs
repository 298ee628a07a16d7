using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Engine.Ops.Cpu;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Max pooling over square windows, PyTorch semantics: padding counts as -inf, ties go to the
/// first maximum in row-major scan order, NaN wins. With <see cref="WithIndices"/> a second,
/// Int32 output holds each maximum's index h * W + w within its (n, c) plane (for MaxUnpool);
/// otherwise the indices are kept in scratch for backward.
/// Backward: each input element sums dy over the windows that picked it (in window order, deterministic).
/// </summary>
public sealed partial class MaxPool(int kernel, int stride, int padding = 0, bool ceilMode = false, bool withIndices = false) : Op
{
    private readonly PoolGeometry _geometry = new(kernel, stride, padding, ceilMode);

    public int Kernel => kernel;
    public int Stride => stride;
    public int Padding => padding;
    public bool CeilMode => ceilMode;
    public bool WithIndices => withIndices;

    public override string Type => "maxpool";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => output == 1;
    public override bool OverwritesInputGradient(int input) => true;
    public override (string Filters, string Size) Describe() => ("", _geometry.Describe());
    public override DataType OutputType(int output) => output == 1 ? DataType.I32 : DataType.F32;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var y = _geometry.OutputShape(inputs[0]);
        return withIndices ? [y, y] : [y];
    }

    /// <summary>Without an indices output the argmax is kept in the node's planned scratch.</summary>
    public override (long Count, DataType Type)? SavedScratch(Shape[] inputs, Shape[] outputs) =>
        withIndices ? null : (outputs[0].Numel, DataType.I32);

    private Span<int> Argmax<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        withIndices ? n.OutInt(1) : n.SavedScratchInts();

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int height = inS[2], width = inS[3], outH = outS[2], outW = outS[3];
        var columns = ColumnWindows(width, outW);
        ParallelWork.For(inS[0] * inS[1], (long)height * width, p =>
        {
            var xp = n.In(0).Slice(p * height * width, height * width);
            var yp = n.Out(0).Slice(p * outH * outW, outH * outW);
            var ap = Argmax(n).Slice(p * outH * outW, outH * outW);
            if (typeof(T) == typeof(float) && MaxPoolKernels.Supported)
                MaxPoolKernels.ForwardPlane(MemoryMarshal.Cast<T, float>(xp), MemoryMarshal.Cast<T, float>(yp), ap, width, outW, kernel, stride, padding);
            else ForwardPlane(xp, yp, ap, width, columns);
        });
    }

    /// <summary>[w0, w1) of each output column's window, clipped to the input.</summary>
    private (int W0, int W1)[] ColumnWindows(int width, int outW)
    {
        var columns = new (int, int)[outW];
        for (int ow = 0; ow < outW; ow++)
        {
            int w0 = _geometry.Start(ow);
            columns[ow] = (Math.Max(w0, 0), Math.Min(w0 + kernel, width));
        }
        return columns;
    }

    private void ForwardPlane<T>(ReadOnlySpan<T> xp, Span<T> yp, Span<int> ap, int width, (int W0, int W1)[] columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int height = xp.Length / width, outW = columns.Length;
        for (int oh = 0, o = 0; o < yp.Length; oh++)
        {
            int h0 = _geometry.Start(oh), h1 = Math.Min(h0 + kernel, height);
            h0 = Math.Max(h0, 0);
            for (int ow = 0; ow < outW; ow++, o++)
            {
                var (w0, w1) = columns[ow];
                var best = T.NegativeInfinity;
                int bestAt = h0 * width + w0;
                for (int ih = h0; ih < h1; ih++)
                {
                    var row = xp.Slice(ih * width, w1);
                    for (int iw = w0; iw < row.Length; iw++)
                    {
                        var v = row[iw];
                        if (v > best || T.IsNaN(v)) { best = v; bestAt = ih * width + iw; }
                    }
                }
                yp[o] = best;
                ap[o] = bestAt;
            }
        }
    }

    /// <summary>
    /// Each plane's dy added at its argmax in output order, one plane per task: no two tasks touch
    /// the same element, and every input element's sum runs over its windows in the order the
    /// gather (over the windows containing it, row-major) would add them, so the bits are the gather's.
    /// </summary>
    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        if (!n.HasInGrad(0)) return;
        bool overwrite = n.OverwriteInGrad(0);
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int inPlane = inS[2] * inS[3], outPlane = outS[2] * outS[3];
        ParallelWork.For(inS[0] * inS[1], inPlane, p =>
        {
            var dyp = n.OutGrad(0).Slice(p * outPlane, outPlane);
            var ap = Argmax(n).Slice(p * outPlane, outPlane);
            var dxp = n.InGrad(0).Slice(p * inPlane, inPlane);
            if (overwrite) { Scatter(dyp, ap, dxp); return; }
            var rented = ArrayPool<T>.Shared.Rent(inPlane);
            var sums = rented.AsSpan(0, inPlane);
            Scatter(dyp, ap, sums);
            for (int i = 0; i < inPlane; i++) dxp[i] += sums[i];
            ArrayPool<T>.Shared.Return(rented);
        });
    }

    private static void Scatter<T>(ReadOnlySpan<T> dy, ReadOnlySpan<int> argmax, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        sums.Clear();
        for (int o = 0; o < dy.Length; o++) sums[argmax[o]] += dy[o];
    }
}

public static partial class Layers
{
    public static Value MaxPool(this GraphBuilder b, Value x, int kernel, int stride, int padding = 0, bool ceilMode = false, string? name = null)
        => b.Add1(new MaxPool(kernel, stride, padding, ceilMode), name ?? b.Unique("maxpool"), x);

    /// <summary>Max pooling that also returns the Int32 argmax indices (h * W + w within each plane), for <see cref="MaxUnpool"/>.</summary>
    public static (Value Values, Value Indices) MaxPoolWithIndices(this GraphBuilder b, Value x, int kernel, int stride, int padding = 0, bool ceilMode = false, string? name = null)
    {
        var outs = b.Add(new MaxPool(kernel, stride, padding, ceilMode, withIndices: true), name ?? b.Unique("maxpool"), x);
        return (outs[0], outs[1]);
    }
}
