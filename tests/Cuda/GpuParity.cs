using Engine.Cuda;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Tests.Cuda;

/// <summary>
/// Runs one graph on the CPU reference (float64) and on the GPU (float32) with the same
/// parameters, states and inputs, and compares every node output, the input and parameter
/// gradients and the states. The GPU's outputs are poisoned (NaN, or -12345 for indices)
/// before forward so that an element a kernel forgets to write shows; parameter gradients
/// start from the same random values on both so that missing accumulation (beta = 0) shows.
/// </summary>
public sealed class GpuParity
{
    public double Tolerance { get; init; } = 1e-4;
    public bool Training { get; init; } = true;
    public ulong Seed { get; init; } = 7;
    /// <summary>Sets the integer inputs (labels); float inputs are random normal.</summary>
    public Func<Value, int, int[]>? IntInput { get; init; }

    public void Check(Backend gpu, Graph.Graph graph, int batch, Value output, int steps = 1)
    {
        using var cpu = new CpuBackend<double>();
        using var c = new Executor(graph, cpu, batch, new ExecutorOptions { InputGradients = true, KeepAll = true });
        using var g = new Executor(graph, gpu, batch, new ExecutorOptions { InputGradients = true, KeepAll = true });
        // Everything starts float32-representable, so that only the arithmetic differs.
        c.Parameters.Initialize(Seed);
        var values = ToFloat(c.Parameters.GetValues());
        var states = ToFloat(c.Parameters.GetStates());
        c.Parameters.SetValues(values);
        c.Parameters.SetStates(states);
        g.Parameters.SetValues(values);
        g.Parameters.SetStates(states);
        var rng = new Rng(Seed + 1);
        var startGrads = Normal(rng, (int)graph.Parameters.Count);
        SetGrads(c.Parameters, startGrads);
        SetGrads(g.Parameters, startGrads);

        for (int step = 0; step < steps; step++)
        {
            c.Step = g.Step = step;
            c.Seed = g.Seed = Seed;
            foreach (var v in graph.Inputs)
            {
                if (!v.IsFloat)
                {
                    var data = IntInput?.Invoke(v, batch) ?? throw new InvalidOperationException($"input {v.Name} needs IntInput");
                    c.SetInput(v.Name, data);
                    g.SetInput(v.Name, data);
                }
                else
                {
                    var data = Normal(rng, (int)c.ShapeOf(v).Numel);
                    c.SetInput(v.Name, data);
                    g.SetInput(v.Name, data);
                }
            }
            Poison(g, graph);
            c.Forward(Training);
            g.Forward(Training);
            foreach (var node in graph.Nodes)
                foreach (var o in node.Outputs)
                    if (!o.IsFloat) Assert.That(g.ReadInt(o), Is.EqualTo(c.ReadInt(o)), $"step {step}: {node.Name} output {o.Name}");
                    else Near(g.Read(o), c.Read(o), $"step {step}: {node.Name} output {o.Name}");

            var projection = Normal(rng, (int)c.ShapeOf(output).Numel);
            c.Backward(output, projection);
            g.Backward(output, projection);
            foreach (var v in graph.Inputs.Where(v => v.IsFloat))
                Near(g.ReadGrad(v), c.ReadGrad(v), $"step {step}: gradient of input {v.Name}");
            Near(g.Parameters.GetGrads(), c.Parameters.GetGrads(), $"step {step}: parameter gradients (accumulated)");
            Near(g.Parameters.GetStates(), c.Parameters.GetStates(), $"step {step}: states");
        }
    }

    private void Near(double[] gpu, double[] cpu, string what)
    {
        Assert.That(gpu, Has.Length.EqualTo(cpu.Length), what);
        double scale = Math.Max(1, cpu.Length == 0 ? 0 : cpu.Max(Math.Abs));
        for (int i = 0; i < cpu.Length; i++)
            if (!(Math.Abs(gpu[i] - cpu[i]) <= Tolerance * scale) && !(double.IsNaN(gpu[i]) && double.IsNaN(cpu[i])))
                Assert.Fail($"{what}: element {i} is {gpu[i]:G9} on the GPU, {cpu[i]:G9} on the CPU (tolerance {Tolerance * scale:G3})");
    }

    private static void Poison(Executor g, Graph.Graph graph)
    {
        foreach (var node in graph.Nodes)
            foreach (var o in node.Outputs)
            {
                var slice = g.ValueSlice(o);
                if (!o.IsFloat) g.Backend.Upload(slice, Enumerable.Repeat(-12345, (int)slice.Count).ToArray());
                else g.Backend.Upload(slice, Enumerable.Repeat(float.NaN, (int)slice.Count).ToArray());
            }
    }

    private static void SetGrads(ParameterBuffers p, double[] values)
    {
        if (values.Length > 0) p.Backend.Upload(new BufferSlice(p.Grads, 0, values.Length), values);
    }

    private static double[] Normal(Rng rng, int count)
    {
        var a = new double[count];
        for (int i = 0; i < count; i++) a[i] = (float)rng.NextNormal();
        return a;
    }

    private static double[] ToFloat(double[] a) => a.Select(v => (double)(float)v).ToArray();
}
