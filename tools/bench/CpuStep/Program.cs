// Times one CPU training step (forward, backward, plain SGD update) of a registry net on the
// engine's float32 CPU backend. tools/reference/step_bench.py times the PyTorch twin the same way;
// tools/bench/cpu-step.sh runs both side by side and writes results/.
using System.Diagnostics;
using System.Globalization;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;

var opts = Args.Parse(args);
var graph = NetRegistry.Build(opts.Net, new NetOptions { Input = opts.Input, Classes = opts.Classes });
using var backend = new CpuBackend<float>();
using var exec = new Executor(graph, backend, opts.Batch) { Seed = 1 };
exec.Parameters.Initialize(1);

var rng = new Rng(3);
var image = exec.Graph.Input("image");
var label = exec.Graph.Input("label");
var x = new float[exec.ShapeOf(image).Numel];
for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
var y = new int[exec.ShapeOf(label).Numel];
int classes = exec.ShapeOf(graph.Output("logits"))[1];
for (int i = 0; i < y.Length; i++) y[i] = rng.NextInt(classes);

var values = ((CpuBuffer<float>)exec.Parameters.Values).Data;
var grads = ((CpuBuffer<float>)exec.Parameters.Grads).Data;
double Step()
{
    var sw = Stopwatch.StartNew();
    exec.Parameters.ZeroGrads();
    exec.SetInput("image", x);
    exec.SetInput("label", y);
    exec.Forward(training: true);
    exec.Backward();
    for (int i = 0; i < values.Length; i++) values[i] -= 0.001f * grads[i];
    return sw.Elapsed.TotalMilliseconds;
}

for (int i = 0; i < opts.Warmup; i++) Step();
var times = Enumerable.Range(0, opts.Steps).Select(_ => Step()).Order().ToArray();
double median = times[times.Length / 2];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"engine {opts.Net} input {opts.Input} batch {opts.Batch}: median {median:F1} ms/step (min {times[0]:F1}, max {times[^1]:F1}, {opts.Steps} steps, {Environment.ProcessorCount} cores)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT engine {median:F3}"));

internal sealed record Args(string Net, Shape Input, int Batch, int? Classes, int Steps, int Warmup)
{
    public static Args Parse(string[] a)
    {
        string net = "segnet"; Shape input = new(3, 64, 64); int batch = 4, steps = 10, warmup = 2; int? classes = null;
        for (int i = 0; i < a.Length; i++)
        {
            string Next() => i + 1 < a.Length ? a[++i] : throw new ArgumentException($"{a[i]} needs a value");
            switch (a[i])
            {
                case "--net": net = Next(); break;
                case "--input": input = Shape.TryParse(Next(), out var s) ? s : throw new ArgumentException("--input must be CxHxW"); break;
                case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--classes": classes = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--steps": steps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown argument {a[i]} (expected --net --input --batch --classes --steps --warmup)");
            }
        }
        return new Args(net, input, batch, classes, steps, warmup);
    }
}
