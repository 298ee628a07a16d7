using System.Numerics;
using Engine.Graph;

namespace Engine.Ops;

/// <summary>
/// Dense after an NHWC 4-D input: the weight stays [out, C*H*W] in NCHW flatten order (so the
/// same checkpoint serves both layouts and the results equal NCHW's); the product runs on the NHWC
/// input directly with the weight's columns permuted to (h, w, c) order per call, and the weight's
/// gradient is computed in that order and added back permuted. No permutation when H = W = 1.
/// </summary>
public sealed partial class Dense
{
    private const int PermutedWeightSlot = 0, PermutedGradSlot = 1;

    private static bool ReadsNhwcPixels<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        n.InNhwc(0) && n.InShape(0)[2] * n.InShape(0)[3] > 1 && n.InShape(0)[1] > 1;

    /// <summary>The weight as the product reads it: the parameter, or its columns in NHWC order, Wp[o, p * C + c] = W[o, c * P + p].</summary>
    private Span<T> ProductWeight<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!ReadsNhwcPixels(n)) return n.Param(0);
        var w = n.Param(0);
        int channels = n.InShape(0)[1], plane = n.InShape(0)[2] * n.InShape(0)[3], features = channels * plane;
        var permuted = n.Scratch<T>(PermutedWeightSlot, w.Length).AsSpan(0, w.Length);
        for (int o = 0; o < OutFeatures; o++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++) permuted[o * features + p * channels + c] = w[o * features + c * plane + p];
        return permuted;
    }

    /// <summary>Where the weight gradient is accumulated: the parameter's gradient, or a zeroed buffer in NHWC column order (<see cref="AddPermutedGradient"/>).</summary>
    private Span<T> ProductWeightGradient<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!ReadsNhwcPixels(n)) return n.ParamGrad(0);
        int length = n.ParamGrad(0).Length;
        var permuted = n.Scratch<T>(PermutedGradSlot, length).AsSpan(0, length);
        permuted.Clear();
        return permuted;
    }

    /// <summary>dW[o, c * P + p] += Gp[o, p * C + c] after <see cref="ProductWeightGradient"/>.</summary>
    private void AddPermutedGradient<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!ReadsNhwcPixels(n)) return;
        var dw = n.ParamGrad(0);
        var permuted = n.Scratch<T>(PermutedGradSlot, dw.Length);
        int channels = n.InShape(0)[1], plane = n.InShape(0)[2] * n.InShape(0)[3], features = channels * plane;
        for (int o = 0; o < OutFeatures; o++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < plane; p++) dw[o * features + c * plane + p] += permuted[o * features + p * channels + c];
    }
}
