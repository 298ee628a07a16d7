using System.Numerics;
using Engine.Graph;

namespace Engine.Ops;

/// <summary>
/// Max unpooling's CPU path in NHWC: values and indices [N, h, w, C], each index still h * W + w
/// within its channel's output plane, so value (s, p, c) lands at output (s, index, c).
/// </summary>
public sealed partial class MaxUnpool
{
    private int OutputAt<T>(CpuNode<T> n, Span<int> idx, int i, int channels, int inPlane) where T : unmanaged, IFloatingPointIeee754<T> =>
        (i / (inPlane * channels) * outHeight * outWidth + Checked(n, idx[i], i)) * channels + i % channels;

    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = n.In(0);
        var idx = n.InInt(1);
        var y = n.Out(0);
        y.Clear();
        int channels = n.InShape(0)[1], inPlane = n.InShape(0)[2] * n.InShape(0)[3];
        for (int i = 0; i < x.Length; i++) y[OutputAt(n, idx, i, channels, inPlane)] = x[i];
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!n.HasInGrad(0)) return;
        var idx = n.InInt(1);
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        bool overwrite = n.OverwriteInGrad(0);
        int channels = n.InShape(0)[1], inPlane = n.InShape(0)[2] * n.InShape(0)[3];
        for (int i = 0; i < dx.Length; i++)
        {
            var g = dy[OutputAt(n, idx, i, channels, inPlane)];
            dx[i] = overwrite ? g : dx[i] + g;
        }
    }
}
