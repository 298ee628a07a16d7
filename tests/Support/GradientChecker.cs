using Engine.Graph;
using Engine.Tensors;

namespace Engine.Tests.Support;

/// <summary>
/// Caffe-style gradient checker on the float64 CPU backend. The objective is a fixed random
/// projection of one output, L = sum(r * y), so errors cannot cancel; every sampled parameter
/// and float input is perturbed by +-h and the central difference compared with backprop:
/// pass when |analytic - numeric| &lt;= threshold * max(|analytic|, |numeric|, 1).
/// A failing element whose numeric derivative changes when h shrinks sits on a kink
/// (ReLU at 0, a max-pool tie) and is skipped, not failed.
/// </summary>
public sealed class GradientChecker
{
    public double Step { get; init; } = 1e-6;
    public double Threshold { get; init; } = 1e-6;
    /// <summary>Check at most this many elements of each parameter and input (all when null).</summary>
    public int? SamplesPerTensor { get; init; }
    /// <summary>Check only the parameters and inputs whose name passes (all when null): whole nets check a sample of tensors.</summary>
    public Func<string, bool>? Include { get; init; }
    public bool Training { get; init; } = true;
    public ulong Seed { get; init; } = 1;
    /// <summary>How the float64 backend stores activations (the executor takes and gives NCHW order either way).</summary>
    public Layout Layout { get; init; } = Layout.Nchw;

    public sealed record Mismatch(string Tensor, long Index, double Analytic, double Numeric);

    public sealed class Report
    {
        public List<Mismatch> Failures { get; } = [];
        public int Checked { get; set; }
        public int SkippedAsKinks { get; set; }
        public override string ToString() =>
            $"{Checked} checked, {SkippedAsKinks} skipped at kinks, {Failures.Count} failed" +
            string.Concat(Failures.Take(10).Select(f => $"\n  {f.Tensor}[{f.Index}]: analytic {f.Analytic:G10}, numeric {f.Numeric:G10}"));
    }

    /// <summary>
    /// Checks <paramref name="output"/> of <paramref name="graph"/>. Float inputs are random
    /// normal unless <paramref name="setInputs"/> sets them; integer inputs must be set there.
    /// </summary>
    public Report Check(Graph.Graph graph, int batch, Value output, Action<Executor>? setInputs = null,
        Action<ParameterBuffers>? setParameters = null)
    {
        using var backend = new CpuBackend<double>(Layout);
        using var exec = new Executor(graph, backend, batch, inputGradients: true) { Seed = Seed };
        var rng = new Rng(Seed);
        exec.Parameters.Initialize(Seed);
        // Non-trivial values everywhere (initialisers leave biases and BN shifts at 0 or 1).
        var p = exec.Parameters.GetValues();
        for (int i = 0; i < p.Length; i++) p[i] += 0.1 * rng.NextNormal();
        exec.Parameters.SetValues(p);
        setParameters?.Invoke(exec.Parameters);

        var inputs = new Dictionary<Value, double[]>();
        foreach (var v in graph.Inputs.Where(v => v.IsFloat))
        {
            var x = new double[exec.ShapeOf(v).Numel];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextNormal();
            exec.SetInput(v.Name, x);
            inputs[v] = x;
        }
        setInputs?.Invoke(exec);
        foreach (var v in inputs.Keys.ToList()) inputs[v] = exec.Read(v);

        var r = new double[exec.ShapeOf(output).Numel];
        for (int i = 0; i < r.Length; i++) r[i] = rng.NextNormal();
        double Objective()
        {
            exec.Forward(Training);
            var y = exec.Read(output);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += r[i] * y[i];
            return s;
        }

        exec.Parameters.ZeroGrads();
        Objective();
        exec.Backward(output, r);
        var paramGrads = exec.Parameters.GetGrads();
        var inputGrads = inputs.Keys.ToDictionary(v => v, exec.ReadGrad);

        var report = new Report();
        var values = exec.Parameters.GetValues();
        foreach (var view in graph.Parameters.Views.Where(v => Include?.Invoke(v.Name) ?? true))
        {
            foreach (long i in Sample(view.Count, rng))
            {
                long at = view.Offset + i;
                double Numeric(double h)
                {
                    double keep = values[at];
                    values[at] = keep + h; exec.Parameters.SetValues(values); double up = Objective();
                    values[at] = keep - h; exec.Parameters.SetValues(values); double down = Objective();
                    values[at] = keep; exec.Parameters.SetValues(values);
                    return (up - down) / (2 * h);
                }
                Compare(report, view.Name, i, paramGrads[at], Numeric);
            }
        }
        foreach (var (v, x) in inputs.Where(i => Include?.Invoke(i.Key.Name) ?? true))
        {
            foreach (long i in Sample(x.Length, rng))
            {
                double Numeric(double h)
                {
                    double keep = x[i];
                    x[i] = keep + h; exec.SetInput(v.Name, x); double up = Objective();
                    x[i] = keep - h; exec.SetInput(v.Name, x); double down = Objective();
                    x[i] = keep; exec.SetInput(v.Name, x);
                    return (up - down) / (2 * h);
                }
                Compare(report, v.Name, i, inputGrads[v][i], Numeric);
            }
        }
        return report;
    }

    private void Compare(Report report, string name, long index, double analytic, Func<double, double> numeric)
    {
        report.Checked++;
        double n = numeric(Step);
        if (Close(analytic, n)) return;
        double finer = numeric(Step / 16);
        if (!Close(n, finer)) { report.SkippedAsKinks++; return; }
        report.Failures.Add(new Mismatch(name, index, analytic, n));
    }

    private bool Close(double a, double b) => Math.Abs(a - b) <= Threshold * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

    private IEnumerable<long> Sample(long count, Rng rng)
    {
        if (SamplesPerTensor is not int k || count <= k)
        {
            for (long i = 0; i < count; i++) yield return i;
            yield break;
        }
        for (int s = 0; s < k; s++) yield return (long)(rng.NextDouble() * count);
    }
}
