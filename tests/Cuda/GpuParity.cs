using Engine.Cuda;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Tests.Cuda;

/// <summary>
/// Runs one graph on the CPU reference (float64) and on the GPU (float32) with the same
/// parameters, states and inputs, and compares, tensor by tensor and by name, every node output,
/// the input gradients, each parameter's gradient increment of the step and each state's change.
/// Each tensor is held to <see cref="Tolerance"/> times its own largest CPU magnitude, so a
/// small gradient (an early VGG block's) is checked as closely as a large one; only where a
/// tensor is tiny next to its group (a conv bias before batch norm, whose gradient is zero but
/// for rounding) does the floor <see cref="Floor"/> times the group's largest magnitude apply.
/// The GPU's outputs are poisoned (NaN, or -12345 for indices) before forward so that an element
/// a kernel forgets to write shows. GPU parameter gradients start from random values scaled to
/// each tensor's CPU increment, so that missing accumulation (beta = 0) shows while float32
/// storage of the sum keeps the increment's precision. Fails if the GPU ran any op pass or
/// optimizer update on the host (<see cref="CudaBackend.HostFallbacks"/>) other than
/// <see cref="AllowedHostFallbacks"/>.
/// </summary>
public sealed class GpuParity
{
    public double Tolerance { get; init; } = 1e-4;
    /// <summary>The smallest scale a tensor is compared at, relative to the largest magnitude of its group (outputs, gradients, states).</summary>
    public double Floor { get; init; } = 1e-3;
    public bool Training { get; init; } = true;
    /// <summary>Host fallbacks the op documents for the case tested ("batchnorm backward"); any other fails the check.</summary>
    public IReadOnlyCollection<string> AllowedHostFallbacks { get; init; } = [];
    public ulong Seed { get; init; } = 7;
    /// <summary>Sets the integer inputs (labels); float inputs are random normal.</summary>
    public Func<Value, int, int[]>? IntInput { get; init; }

    public void Check(Backend gpu, Graph.Graph graph, int batch, Value output, int steps = 1)
    {
        var fallbacks = HostFallbacks(gpu);
        var options = new ExecutorOptions { InputGradients = true, KeepAll = true };
        using var cpu = new CpuBackend<double>();
        using var c = new Executor(graph, cpu, batch, options);
        using var g = new Executor(graph, gpu, batch, options);
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

        for (int step = 0; step < steps; step++)
        {
            c.Step = g.Step = step;
            c.Seed = g.Seed = Seed;
            SetInputs(graph, batch, c, g, rng);
            var (cpuStates, gpuStates) = (c.Parameters.GetStates(), g.Parameters.GetStates());
            Poison(g, graph);
            c.Forward(Training);
            g.Forward(Training);
            var outputs = new List<(string, double[], double[])>();
            foreach (var node in graph.Nodes)
                foreach (var o in node.Outputs)
                    if (!o.IsFloat) Assert.That(g.ReadInt(o), Is.EqualTo(c.ReadInt(o)), $"step {step}: {node.Name} output {o.Name}");
                    else outputs.Add(($"{node.Name} output {o.Name}", g.Read(o), c.Read(o)));
            Compare($"step {step}", outputs);

            var projection = Normal(rng, (int)c.ShapeOf(output).Numel);
            c.Parameters.ZeroGrads();
            c.Backward(output, projection);
            var cpuIncrement = c.Parameters.GetGrads();
            var start = ScaledStart(graph.Parameters, startGrads, cpuIncrement);
            SetGrads(g.Parameters, start);
            g.Backward(output, projection);
            var gpuIncrement = Minus(g.Parameters.GetGrads(), start);

            Compare($"step {step}: gradient of input", graph.Inputs.Where(v => v.IsFloat).Select(v => (v.Name, g.ReadGrad(v), c.ReadGrad(v))).ToList());
            Compare($"step {step}: gradient increment of", Views(graph.Parameters, gpuIncrement, cpuIncrement));
            Compare($"step {step}: change of state", Views(graph.States,
                Minus(g.Parameters.GetStates(), gpuStates), Minus(c.Parameters.GetStates(), cpuStates)));
        }
        var added = HostFallbacks(gpu).Where(f => f.Value != fallbacks.GetValueOrDefault(f.Key) && !AllowedHostFallbacks.Contains(f.Key));
        Assert.That(added.Select(f => f.Key), Is.Empty, "op passes or optimizer updates that ran on the host, not their GPU path");
    }

    /// <summary>Fails on the first element of a tensor outside its bound, or on a tensor the GPU left zero.</summary>
    private void Compare(string what, IReadOnlyList<(string Name, double[] Gpu, double[] Cpu)> tensors)
    {
        double group = tensors.Count == 0 ? 0 : tensors.Max(t => MaxAbs(t.Cpu));
        foreach (var (name, gpu, cpu) in tensors)
        {
            Assert.That(gpu, Has.Length.EqualTo(cpu.Length), $"{what} {name}");
            double own = MaxAbs(cpu), floor = Floor * group;
            double bound = Tolerance * Math.Max(own, floor);
            if (own > bound && MaxAbs(gpu) <= Tolerance * own)
                Assert.Fail($"{what} {name}: zero on the GPU, up to {own:G3} on the CPU (a missing gradient or write?)");
            for (int i = 0; i < cpu.Length; i++)
                if (!(Math.Abs(gpu[i] - cpu[i]) <= bound) && !(double.IsNaN(gpu[i]) && double.IsNaN(cpu[i])))
                    Assert.Fail($"{what} {name}: element {i} is {gpu[i]:G9} on the GPU, {cpu[i]:G9} on the CPU " +
                        $"(tolerance {bound:G3} = {Tolerance:G3} x max(own {own:G3}, {Floor:G3} x group {group:G3}))");
        }
    }

    private static List<(string, double[], double[])> Views(ParameterLayout layout, double[] gpu, double[] cpu) =>
        layout.Views.Select(v => (v.Name, gpu[(int)v.Offset..(int)(v.Offset + v.Count)], cpu[(int)v.Offset..(int)(v.Offset + v.Count)])).ToList();

    /// <summary>Each tensor's random start scaled to its CPU increment (float32-representable).</summary>
    private static double[] ScaledStart(ParameterLayout layout, double[] directions, double[] increment)
    {
        var start = new double[directions.Length];
        foreach (var v in layout.Views)
        {
            var (from, to) = ((int)v.Offset, (int)(v.Offset + v.Count));
            double scale = MaxAbs(increment[from..to]);
            if (scale == 0) scale = 1;
            for (int i = from; i < to; i++) start[i] = (float)(directions[i] * scale);
        }
        return start;
    }

    private void SetInputs(Graph.Graph graph, int batch, Executor c, Executor g, Rng rng)
    {
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
    }

    private static Dictionary<string, int> HostFallbacks(Backend b) =>
        b is CudaBackend cuda ? new Dictionary<string, int>(cuda.HostFallbacks) : [];

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

    private static double MaxAbs(double[] a)
    {
        double m = 0;
        foreach (var x in a) if (Math.Abs(x) > m) m = Math.Abs(x);
        return m;
    }

    private static double[] Minus(double[] a, double[] b) => a.Select((x, i) => x - b[i]).ToArray();

    private static double[] Normal(Rng rng, int count)
    {
        var a = new double[count];
        for (int i = 0; i < count; i++) a[i] = (float)rng.NextNormal();
        return a;
    }

    private static double[] ToFloat(double[] a) => a.Select(v => (double)(float)v).ToArray();
}
