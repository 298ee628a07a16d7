using System.Text.Json;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Tests.PyTorch;

/// <summary>
/// One engine-vs-PyTorch comparison: a graph, its inputs, and the arguments the reference
/// script (tools/reference/xcheck.py) needs to compute the same thing. <see cref="Write"/>
/// runs the engine on the CPU backend and dumps inputs, parameters, projections, and the
/// engine's outputs and gradients; the script adds torch_*.npy beside them.
/// </summary>
public sealed class CrossCheckCase
{
    public required string Id { get; init; }
    /// <summary>The reference script's case kind ("conv", "batch_norm", "net", ...).</summary>
    public required string Kind { get; init; }
    public required Func<Graph.Graph> Build { get; init; }
    public int Batch { get; init; } = 2;
    public bool Training { get; init; } = true;
    public Dictionary<string, object> Args { get; init; } = [];
    /// <summary>Fills integer inputs (labels): (input value, its shape at the batch size, rng) -> data.</summary>
    public Func<Value, Shape, Rng, int[]>? IntInput { get; init; }
    /// <summary>Float inputs drawn uniformly from this range instead of N(0,1) (e.g. images in [0,1]).</summary>
    public (double Lo, double Hi)? InputRange { get; init; }
    /// <summary>The output that is projected and backpropagated (by name); default: every output in name order, projecting the first float one.</summary>
    public string? Output { get; init; }
    /// <summary>
    /// Backpropagate from this output itself (a net's "loss": its projection is 1, every other
    /// output's 0) instead of from a random projection of the first float output.
    /// </summary>
    public string? Objective { get; init; }

    public override string ToString() => Id;

    public void Write(string dir, bool useDouble)
    {
        Directory.CreateDirectory(dir);
        var graph = Build();
        Backend backend = useDouble ? new CpuBackend<double>() : new CpuBackend<float>();
        using var _ = backend;
        using var exec = new Executor(graph, backend, Batch, inputGradients: true) { Seed = 7 };
        var rng = new Rng(StableSeed(Id));
        exec.Parameters.Initialize(11);
        var p = exec.Parameters.GetValues();
        for (int i = 0; i < p.Length; i++) p[i] += 0.1 * rng.NextNormal();
        exec.Parameters.SetValues(p);
        var st = exec.Parameters.GetStates();
        foreach (var v in graph.States.Views)
            for (long i = 0; i < v.Count; i++)
                st[v.Offset + i] = v.Name.EndsWith("running_var") ? 0.5 + rng.NextDouble() : 0.2 * rng.NextNormal();
        exec.Parameters.SetStates(st);
        // What is written is what the backend holds (rounded to float32 when it is float32).
        p = exec.Parameters.GetValues();
        st = exec.Parameters.GetStates();

        foreach (var v in graph.Inputs)
        {
            var shape = exec.ShapeOf(v);
            if (!v.IsFloat)
            {
                var data = (IntInput ?? throw new InvalidOperationException($"{Id}: integer input {v.Name} needs IntInput"))(v, shape, rng);
                exec.SetInput(v.Name, data);
                Npy.Write(Path.Combine(dir, v.Name + ".npy"), new Tensor<int>(shape, data));
            }
            else
            {
                var x = new double[shape.Numel];
                for (int i = 0; i < x.Length; i++)
                    x[i] = InputRange is var (lo, hi) ? rng.NextUniform(lo, hi) : rng.NextNormal();
                exec.SetInput(v.Name, x);
                WriteFloat(dir, v.Name, shape, exec.Read(v), useDouble);
            }
        }
        foreach (var v in graph.Parameters.Views)
            WriteFloat(dir, v.Name, v.Shape, p.AsSpan((int)v.Offset, (int)v.Count).ToArray(), useDouble);
        foreach (var v in graph.States.Views)
            WriteFloat(dir, v.Name, v.Shape, st.AsSpan((int)v.Offset, (int)v.Count).ToArray(), useDouble);

        var outputs = Output is null ? graph.Outputs.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => o.Value).ToList() : [graph.Output(Output)];
        exec.Parameters.ZeroGrads();
        exec.Forward(Training);
        Value? projected = null;
        for (int i = 0; i < outputs.Count; i++)
        {
            var y = outputs[i];
            if (!y.IsFloat)
            {
                Npy.Write(Path.Combine(dir, $"engine_y{i}.npy"), new Tensor<int>(exec.ShapeOf(y), exec.ReadInt(y)));
                continue;
            }
            WriteFloat(dir, $"engine_y{i}", exec.ShapeOf(y), exec.Read(y), true);
            var r = new double[exec.ShapeOf(y).Numel];
            if (Objective is not null ? y == graph.Output(Objective) : projected is null)
            {
                for (int k = 0; k < r.Length; k++) r[k] = Objective is null ? rng.NextNormal() : 1;
                projected = y;
                exec.Backward(y, r);
            }
            WriteFloat(dir, $"r{i}", exec.ShapeOf(y), r, useDouble);
        }
        foreach (var v in graph.Inputs.Where(v => v.IsFloat))
            WriteFloat(dir, $"engine_grad_{v.Name}", exec.ShapeOf(v), exec.ReadGrad(v), true);
        var g = exec.Parameters.GetGrads();
        foreach (var v in graph.Parameters.Views)
            WriteFloat(dir, $"engine_grad_{v.Name}", v.Shape, g.AsSpan((int)v.Offset, (int)v.Count).ToArray(), true);
        var after = exec.Parameters.GetStates();
        foreach (var v in graph.States.Views)
            WriteFloat(dir, $"engine_state_{v.Name}", v.Shape, after.AsSpan((int)v.Offset, (int)v.Count).ToArray(), true);

        var spec = new Dictionary<string, object>
        {
            ["case"] = Kind,
            ["dtype"] = useDouble ? "float64" : "float32",
            ["training"] = Training,
            ["inputs"] = graph.Inputs.Where(v => v.IsFloat).Select(v => v.Name).ToArray(),
            ["int_inputs"] = graph.Inputs.Where(v => !v.IsFloat).Select(v => v.Name).ToArray(),
            ["params"] = graph.Parameters.Views.Select(v => v.Name).ToArray(),
            ["states"] = graph.States.Views.Select(v => v.Name).ToArray(),
            ["outputs"] = outputs.Count,
            ["args"] = Args,
        };
        File.WriteAllText(Path.Combine(dir, "case.json"), JsonSerializer.Serialize(spec));
    }

    /// <summary>FNV-1a of the id: the same inputs in every run (string.GetHashCode is randomised per process).</summary>
    private static ulong StableSeed(string id)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char ch in id) h = (h ^ ch) * 0x100000001B3UL;
        return h;
    }

    private static void WriteFloat(string dir, string name, Shape shape, double[] data, bool useDouble)
    {
        var path = Path.Combine(dir, name + ".npy");
        if (useDouble) Npy.Write(path, new Tensor<double>(shape, data));
        else Npy.Write(path, new Tensor<float>(shape, data.Select(d => (float)d).ToArray()));
    }
}
