using Engine.Graph;
using Engine.Tensors;

namespace Engine.Tests.Nhwc;

/// <summary>
/// One forward and backward of a graph on a CPU backend of a layout, from fixed weights, inputs
/// and output gradients, with everything it computed read back in NCHW order, so that an NCHW and
/// an NHWC run can be compared tensor by tensor (engine/Graph/LAYOUT.md).
/// </summary>
public static class LayoutRun
{
    /// <summary>Everything one run computed, by name: "y" outputs, "d:x" input gradients, "params", "grads", "states", "int:y" integer outputs.</summary>
    public sealed class Result(Dictionary<string, double[]> tensors)
    {
        public Dictionary<string, double[]> Tensors { get; } = tensors;
    }

    public static Backend Cpu(bool float64, Layout layout) =>
        float64 ? new CpuBackend<double>(layout) : new CpuBackend<float>(layout);

    /// <summary>
    /// Runs <paramref name="graph"/> at <paramref name="batch"/>: parameters initialised and jittered
    /// from a seed, float inputs random normal, integer inputs from <paramref name="ints"/> (by input
    /// name and element count); backward from the loss, else from a random projection of every float output.
    /// </summary>
    public static Result Run(Graph.Graph graph, Backend backend, int batch, ExecutorOptions? options = null, bool training = true,
        Func<string, long, int[]>? ints = null, Action<Executor>? check = null)
    {
        options ??= new ExecutorOptions { KeepAll = true, InputGradients = true };
        using var exec = new Executor(graph, backend, batch, options) { Seed = 11 };
        var rng = new Rng(3);
        exec.Parameters.Initialize(5);
        var p = exec.Parameters.GetValues();
        for (int i = 0; i < p.Length; i++) p[i] += 0.1 * rng.NextNormal();
        exec.Parameters.SetValues(p);
        var s = exec.Parameters.GetStates();
        for (int i = 0; i < s.Length; i++) s[i] += 0.2 * Math.Abs(rng.NextNormal());
        exec.Parameters.SetStates(s);

        foreach (var v in graph.Inputs)
        {
            long count = exec.ShapeOf(v).Numel;
            if (v.IsFloat) exec.SetInput(v.Name, Enumerable.Range(0, (int)count).Select(_ => rng.NextNormal()).ToArray());
            else exec.SetInput(v.Name, (ints ?? throw new ArgumentException($"integer input {v.Name} needs values"))(v.Name, count));
        }
        exec.Parameters.ZeroGrads();
        exec.Forward(training);
        var tensors = new Dictionary<string, double[]>();
        var outputs = graph.Outputs.ToList();
        foreach (var (name, v) in outputs)
            tensors[v.IsFloat ? name : "int:" + name] = v.IsFloat ? exec.Read(v) : exec.ReadInt(v).Select(i => (double)i).ToArray();
        if (options.InferenceOnly) return new Result(tensors);

        if (graph.Loss is not null) exec.Backward();
        else
        {
            // One projection over the first float output; the others reach it through the graph or not at all.
            var first = outputs.First(o => o.Value.IsFloat).Value;
            exec.Backward(first, Enumerable.Range(0, (int)exec.ShapeOf(first).Numel).Select(_ => rng.NextNormal()).ToArray());
        }
        if (options.InputGradients)
            foreach (var v in graph.Inputs.Where(v => v.IsFloat)) tensors["d:" + v.Name] = exec.ReadGrad(v);
        tensors["params"] = exec.Parameters.GetValues();
        tensors["grads"] = exec.Parameters.GetGrads();
        tensors["states"] = exec.Parameters.GetStates();
        check?.Invoke(exec);
        return new Result(tensors);
    }

    /// <summary>Asserts that every tensor of <paramref name="actual"/> equals <paramref name="expected"/>'s within tolerance * max(1, the tensor's largest magnitude); 0: bit for bit.</summary>
    public static void AssertClose(Result expected, Result actual, double tolerance, string what)
    {
        Assert.That(actual.Tensors.Keys, Is.EquivalentTo(expected.Tensors.Keys), what);
        foreach (var (name, e) in expected.Tensors)
        {
            var a = actual.Tensors[name];
            Assert.That(a.Length, Is.EqualTo(e.Length), $"{what}: {name}");
            if (tolerance == 0)
            {
                Assert.That(a, Is.EqualTo(e), $"{what}: {name} differs (bit for bit expected)");
                continue;
            }
            double scale = Math.Max(1, e.Length == 0 ? 0 : e.Max(Math.Abs));
            int worst = -1;
            double worstError = 0;
            for (int i = 0; i < e.Length; i++)
            {
                double err = Math.Abs(a[i] - e[i]);
                if (!(err <= worstError)) { worstError = err; worst = i; }
            }
            Assert.That(worstError, Is.LessThanOrEqualTo(tolerance * scale),
                $"{what}: {name}[{worst}] is {(worst >= 0 ? a[worst] : 0):R}, expected {(worst >= 0 ? e[worst] : 0):R} (scale {scale:G4})");
        }
    }
}
