using System.Numerics;
using Engine.Graph;

namespace Engine.Ops;

/// <summary>
/// Dropout's CPU path in NHWC: the mask is drawn by each element's logical NCHW index, so an NHWC
/// run drops exactly the elements an NCHW run drops (and a resumed run draws the same masks).
/// </summary>
public sealed partial class Dropout
{
    /// <summary>The NCHW index of the element stored at NHWC position i of [N, H, W, C].</summary>
    private static long LogicalIndex(long i, int channels, int plane)
    {
        long sample = (long)channels * plane, s = i / sample, r = i % sample;
        return s * sample + r % channels * plane + r / channels;
    }

    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = n.In(0);
        var y = n.Out(0);
        var scale = T.CreateTruncating(Scale);
        ulong stream = Stream(n.Node.Index, n.Step);
        long first = FirstIndex(n);
        int channels = n.InShape(0)[1], plane = n.InShape(0)[2] * n.InShape(0)[3];
        for (int i = 0; i < y.Length; i++) y[i] = Keeps(n.Seed, stream, first + LogicalIndex(i, channels, plane)) ? x[i] * scale : T.Zero;
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        bool overwrite = n.OverwriteInGrad(0);
        var scale = T.CreateTruncating(Scale);
        ulong stream = Stream(n.Node.Index, n.Step);
        long first = FirstIndex(n);
        int channels = n.InShape(0)[1], plane = n.InShape(0)[2] * n.InShape(0)[3];
        for (int i = 0; i < dx.Length; i++)
        {
            var g = Keeps(n.Seed, stream, first + LogicalIndex(i, channels, plane)) ? dy[i] * scale : T.Zero;
            dx[i] = overwrite ? g : dx[i] + g;
        }
    }
}
