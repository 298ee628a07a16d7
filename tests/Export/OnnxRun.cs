using Engine.Export.Onnx;
using Engine.Graph;
using Engine.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Engine.Tests.Export;

/// <summary>
/// A small net with non-trivial weights and statistics, run in eval mode by the engine (float32
/// CPU) and, exported, by ONNX Runtime on the same images.
/// </summary>
internal sealed class OnnxRun
{
    public const int Batch = 2;

    public required float[] EngineLogits { get; init; }
    public required float[] OnnxLogits { get; init; }
    public required float[] OnnxProbabilities { get; init; }
    /// <summary>ONNX Runtime's "mask" output (per-pixel nets), else null.</summary>
    public long[]? OnnxMask { get; init; }
    public required int[] LogitsShape { get; init; }

    /// <summary>Runs <paramref name="g"/> (input "image", output "logits") with random weights on images uniform in +-<paramref name="imageScale"/>.</summary>
    public static OnnxRun Of(Graph.Graph g, ulong seed = 5, double imageScale = 1)
    {
        using var backend = new CpuBackend<float>();
        using var exec = new Executor(g, backend, Batch, new ExecutorOptions { InferenceOnly = true });
        Randomize(g, exec.Parameters, seed);
        return Of(exec, OnnxExporter.ToBytes(OnnxExporter.Build(g, exec.Parameters)), Images(g, seed + 1, imageScale));
    }

    /// <summary>The engine's eval forward on <paramref name="images"/> (with its executor's weights) and ONNX Runtime's on <paramref name="model"/>.</summary>
    public static OnnxRun Of(Executor exec, byte[] model, float[] images)
    {
        var g = exec.Graph;
        exec.SetInput("image", images);
        if (g.Inputs.FirstOrDefault(v => v.Name == "label") is { } label) exec.SetInput("label", new int[label.Shape.WithBatch(Batch).Numel]);
        exec.Forward(training: false);
        var logits = g.Output("logits");

        using var session = new InferenceSession(model);
        var input = new DenseTensor<float>(images, g.Input("image").Shape.WithBatch(Batch).Dims.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("image", input)]);
        var byName = results.ToDictionary(r => r.Name);
        return new OnnxRun
        {
            EngineLogits = exec.ReadFloat(logits),
            OnnxLogits = byName["logits"].AsTensor<float>().ToArray(),
            OnnxProbabilities = byName["probabilities"].AsTensor<float>().ToArray(),
            OnnxMask = byName.TryGetValue("mask", out var mask) ? mask.AsTensor<long>().ToArray() : null,
            LogitsShape = exec.ShapeOf(logits).Dims.ToArray(),
        };
    }

    /// <summary>A batch of images for <paramref name="g"/>, uniform in +-<paramref name="scale"/>.</summary>
    public static float[] Images(Graph.Graph g, ulong seed, double scale = 1)
    {
        var rng = new Rng(seed);
        var x = new float[g.Input("image").Shape.WithBatch(Batch).Numel];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextUniform(-scale, scale);
        return x;
    }

    /// <summary>Initialised weights, moved off their initial constants (BN's ones and zeros, zero biases), and random running statistics.</summary>
    private static void Randomize(Graph.Graph g, ParameterBuffers parameters, ulong seed)
    {
        var rng = new Rng(seed);
        parameters.Initialize(seed);
        var p = parameters.GetValues();
        foreach (var v in g.Parameters.Views)
            for (long i = v.Offset; i < v.Offset + v.Count; i++)
                p[i] = v.Init.Kind switch
                {
                    InitKind.Ones => rng.NextUniform(0.5, 1.5),
                    InitKind.Zeros => rng.NextUniform(-0.2, 0.2),
                    _ => p[i],
                };
        parameters.SetValues(p);
        var s = new double[g.States.Count];
        foreach (var v in g.States.Views)
            for (long i = v.Offset; i < v.Offset + v.Count; i++)
                s[i] = v.Name.EndsWith("running_var", StringComparison.Ordinal) ? rng.NextUniform(0.5, 1.5) : rng.NextUniform(-0.3, 0.3);
        parameters.SetStates(s);
    }
}
