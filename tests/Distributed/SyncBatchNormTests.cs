using Engine.Distributed;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Distributed;

/// <summary>
/// SyncBN against batch norm over the concatenated batch, with ranks simulated in-process: the
/// outputs, input gradients, summed weight and bias gradients and every rank's running statistics
/// match; on one rank it is batch norm bit for bit. Batch norm itself is gradient-checked, so this
/// is SyncBN's gradient check.
/// </summary>
public class SyncBatchNormTests
{
    private static readonly Shape Sample = new(3, 4, 5);

    private sealed record Pass(double[] Y, double[] Dx, double[] ParamGrads, double[] States);

    /// <summary>Forward (training) and backward of one normalisation node on <paramref name="batch"/> samples of x with output gradient dy.</summary>
    private static Pass Run(Func<GraphBuilder, Value, Value> norm, int batch, double[] x, double[] dy, double[] weights, Shape? sample = null)
    {
        var b = new GraphBuilder("norm");
        var input = b.Input("image", sample ?? Sample);
        var y = norm(b, input);
        b.Output("y", y);
        var graph = b.Build();
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(graph, backend, batch, inputGradients: true);
        exec.Parameters.SetValues(weights);
        exec.SetInput("image", x);
        exec.Forward(training: true);
        exec.Parameters.ZeroGrads();
        exec.Backward(y, dy);
        return new Pass(exec.Read(y), exec.ReadGrad(input), exec.Parameters.GetGrads(), exec.Parameters.GetStates());
    }

    private static double[] Random(int n, ulong seed, double offset = 0)
    {
        var rng = new Rng(seed);
        return [.. Enumerable.Range(0, n).Select(_ => offset + rng.NextNormal())];
    }

    private static readonly double[] Weights = [0.5, 1.5, -2, 0.1, -0.3, 0.7];

    [Test]
    public void On_one_rank_it_is_batch_norm_bit_for_bit()
    {
        int n = 4;
        var x = Random(n * (int)Sample.Numel, 1, offset: 3);
        var dy = Random(n * (int)Sample.Numel, 2);
        var plain = Run((b, v) => b.BatchNorm(v), n, x, dy, Weights);
        var synced = Run((b, v) => b.SyncBatchNorm(v, SingleProcess.Instance), n, x, dy, Weights);
        Assert.That(synced.Y, Is.EqualTo(plain.Y));
        Assert.That(synced.Dx, Is.EqualTo(plain.Dx));
        Assert.That(synced.ParamGrads, Is.EqualTo(plain.ParamGrads));
        Assert.That(synced.States, Is.EqualTo(plain.States));
    }

    /// <summary>The ranks' passes run together (one thread each), on each rank's slice of x and dy.</summary>
    private static Pass[] RunRanks(int[] batches, double[] x, double[] dy, double[] weights, Shape sample)
    {
        int per = (int)sample.Numel;
        var group = ThreadGroup.Create(batches.Length);
        var parts = new Pass[batches.Length];
        ThreadGroup.Run(group, rank =>
        {
            int first = batches.Take(rank.Rank).Sum() * per, count = batches[rank.Rank] * per;
            parts[rank.Rank] = Run((b, v) => b.SyncBatchNorm(v, rank), batches[rank.Rank], x[first..(first + count)], dy[first..(first + count)], weights, sample);
        });
        return parts;
    }

    /// <summary>
    /// Central differences of L = sum over ranks of r . y (r a fixed random projection) with respect to
    /// every input element on every rank and every weight and bias, against the ranks' backward
    /// (input gradients per rank, weight gradients summed over ranks).
    /// </summary>
    [Test]
    public void Gradients_over_two_ranks_match_central_differences()
    {
        int[] batches = [1, 2];
        var sample = new Shape(3, 2, 2);
        int n = batches.Sum() * (int)sample.Numel;
        var x = Random(n, 5, offset: 1);
        var projection = Random(n, 6);
        var weights = Weights.ToArray();
        var parts = RunRanks(batches, x, projection, weights, sample);
        var analytic = parts.SelectMany(p => p.Dx).Concat(Enumerable.Range(0, weights.Length).Select(i => parts.Sum(p => p.ParamGrads[i]))).ToArray();

        double Objective(double[] xs, double[] ws) =>
            RunRanks(batches, xs, projection, ws, sample).SelectMany(p => p.Y).Zip(projection, (y, r) => y * r).Sum();

        const double h = 1e-6;
        for (int i = 0; i < analytic.Length; i++)
        {
            double Shifted(double by)
            {
                var xs = x.ToArray();
                var ws = weights.ToArray();
                if (i < n) xs[i] += by; else ws[i - n] += by;
                return Objective(xs, ws);
            }
            double numeric = (Shifted(h) - Shifted(-h)) / (2 * h);
            Assert.That(analytic[i], Is.EqualTo(numeric).Within(1e-6 * Math.Max(1, Math.Abs(numeric))), i < n ? $"x[{i}]" : $"weight/bias [{i - n}]");
        }
    }

    [TestCase(new[] { 2, 2 })]
    [TestCase(new[] { 1, 3, 2 })]
    public void Ranks_with_different_batch_sizes_normalise_as_one_batch(int[] batches)
    {
        int total = batches.Sum(), per = (int)Sample.Numel;
        var x = Random(total * per, 3, offset: -2);
        var dy = Random(total * per, 4);
        var whole = Run((b, v) => b.BatchNorm(v), total, x, dy, Weights);

        var parts = RunRanks(batches, x, dy, Weights, Sample);

        Assert.That(parts.SelectMany(p => p.Y), Is.EqualTo(whole.Y).Within(1e-12));
        Assert.That(parts.SelectMany(p => p.Dx), Is.EqualTo(whole.Dx).Within(1e-12));
        var summedGrads = Enumerable.Range(0, whole.ParamGrads.Length).Select(i => parts.Sum(p => p.ParamGrads[i]));
        Assert.That(summedGrads, Is.EqualTo(whole.ParamGrads).Within(1e-11));
        foreach (var p in parts)
        {
            Assert.That(p.States, Is.EqualTo(parts[0].States), "running statistics are the same bits on every rank");
            Assert.That(p.States, Is.EqualTo(whole.States).Within(1e-12));
        }
    }
}
