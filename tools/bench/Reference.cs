using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Bench;

/// <summary>
/// Runs one op on the CPU reference backend in float32 (the specification every GPU result is
/// checked against): forward, and backward from a given output gradient when asked.
/// </summary>
internal sealed class Reference : IDisposable
{
    private readonly Executor _exec;
    private readonly Value[] _inputs, _outputs;

    /// <param name="inputs">float[] or int[] per input, with full shapes (batch first).</param>
    /// <param name="parameters">The op's parameter values in layout order, or null for its initialisation.</param>
    public Reference(Op op, Shape[] shapes, object[] inputs, double[]? parameters = null, bool withInputGrads = false)
    {
        var b = new GraphBuilder(op.Type);
        _inputs = shapes.Select((s, i) => b.Input($"x{i}", s.DropFirst(), op.InputType(i))).ToArray();
        _outputs = b.Add(op, "op", _inputs);
        _exec = new Executor(b.Build(), new CpuBackend<float>(), shapes[0][0], inputGradients: withInputGrads);
        _exec.Parameters.Initialize(1);
        if (parameters is not null) _exec.Parameters.SetValues(parameters);
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is int[] n) _exec.SetInput($"x{i}", n);
            else _exec.SetInput($"x{i}", (float[])inputs[i]);
        }
        _exec.Forward(training: true);
    }

    public float[] Output(int o) => _exec.ReadFloat(_outputs[o]);
    public int[] OutputInt(int o) => _exec.ReadInt(_outputs[o]);

    /// <summary>Backward from output <paramref name="o"/> with gradient <paramref name="dy"/>.</summary>
    public void Backward(int o, float[] dy) => _exec.Backward(_outputs[o], dy.Select(v => (double)v).ToArray());

    public float[] InputGrad(int i) => _exec.ReadGrad(_inputs[i]).Select(v => (float)v).ToArray();
    public float[] ParamGrads() => _exec.Parameters.GetGrads().Select(v => (float)v).ToArray();

    public void Dispose() => _exec.Dispose();

    /// <summary>Deterministic uniform values in [lo, hi).</summary>
    public static float[] Uniform(long count, ulong seed, double lo = -3, double hi = 3)
    {
        var data = new float[count];
        const int chunk = 1 << 20;
        Parallel.For(0, (int)((count + chunk - 1) / chunk), c =>
        {
            var rng = new Rng(seed * 1_000_003UL + (ulong)c);
            long end = Math.Min(count, (long)(c + 1) * chunk);
            for (long i = (long)c * chunk; i < end; i++) data[i] = (float)rng.NextUniform(lo, hi);
        });
        return data;
    }

    /// <summary>Deterministic labels in [0, classes), every <paramref name="ignoreEvery"/>-th one the ignore label.</summary>
    public static int[] Labels(long count, int classes, int ignoreLabel, int ignoreEvery, ulong seed)
    {
        var rng = new Rng(seed);
        var labels = new int[count];
        for (long i = 0; i < count; i++) labels[i] = ignoreEvery > 0 && i % ignoreEvery == 0 ? ignoreLabel : rng.NextInt(classes);
        return labels;
    }
}
