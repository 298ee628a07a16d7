using Engine.Graph;
using Engine.Tensors;

namespace Engine.Tests.Support;

/// <summary>
/// Runs one node of a single-input, single-output op directly on a backend (no executor) with its
/// output and output gradient laid out as a channel slice of a wider buffer: samples
/// <c>stride</c> elements apart, the slice starting a few elements into the buffer. The gaps of
/// the output start at a sentinel (they must stay untouched); those of the output gradient are NaN
/// (they must not be read). Parameter gradients and the input gradient start at zero.
/// </summary>
public static class StridedRun
{
    public const double Sentinel = -777.25;
    private const int Lead = 3;

    public sealed record Result(double[] Y, double[] Gaps, double[] Dx, double[] ParamGrads, double[] States);

    public static Result Run(Backend backend, Node node, int batch, long stride, double[] x, double[][] parameters, double[][] states,
        double[] dy, bool training)
    {
        var shape = node.Inputs[0].Shape.DropFirst().Prepend(batch);
        long sample = shape.Numel / batch;
        long span = (batch - 1) * stride + sample, total = Lead + span + Lead;
        var owned = new List<Graph.Buffer>();
        NodeRun? run = null;
        BufferSlice New(long count, double[]? values = null, double fill = 0)
        {
            var b = backend.AllocateFloats(count);
            owned.Add(b);
            var s = BufferSlice.Whole(b);
            backend.Upload(s, values ?? Enumerable.Repeat(fill, (int)count).ToArray());
            return s;
        }
        double[] Spread(double[] compact, double fill)
        {
            var wide = Enumerable.Repeat(fill, (int)total).ToArray();
            for (int n = 0; n < batch; n++) Array.Copy(compact, n * sample, wide, Lead + n * stride, sample);
            return wide;
        }
        try
        {
            var y = New(total, fill: Sentinel);
            var g = New(total, Spread(dy, double.NaN));
            var dx = New(x.Length);
            var p = parameters.Select(v => New(v.Length, v)).ToArray();
            run = new NodeRun(node)
            {
                InShapes = [shape], OutShapes = [shape],
                In = [New(x.Length, x)], Out = [new BufferSlice(y.Buffer, Lead, span)],
                InGrad = [dx], OutGrad = [new BufferSlice(g.Buffer, Lead, span)],
                OutStrides = [stride],
                Params = p, ParamGrads = p.Select(s => New(s.Count)).ToArray(),
                States = states.Select(v => New(v.Length, v)).ToArray(),
                Training = training, Batch = batch,
            };
            backend.Forward(run);
            backend.Backward(run);
            double[] Read(BufferSlice s) { var a = new double[s.Count]; backend.Download(s, a); return a; }
            var wideY = Read(y);
            var compactY = new double[shape.Numel];
            for (int n = 0; n < batch; n++) Array.Copy(wideY, Lead + n * stride, compactY, n * sample, sample);
            var gaps = wideY.Where((_, i) => i < Lead || i >= Lead + span || (i - Lead) % stride >= sample).ToArray();
            return new(compactY, gaps, Read(dx), [.. run.ParamGrads.SelectMany(Read)], [.. run.States.SelectMany(Read)]);
        }
        finally
        {
            (run?.BackendState as IDisposable)?.Dispose();
            foreach (var b in owned) b.Dispose();
        }
    }
}
