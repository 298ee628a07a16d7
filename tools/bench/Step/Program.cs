// Times one training step (forward, backward, optimizer update) of a registry net on the
// engine's CPU backend (float32, or --precision bf16 emulated / fp64) or, with --gpu N, on a CUDA GPU; --profile adds the per-node
// breakdown. tools/reference/step_bench.py times the PyTorch twin the same way;
// tools/bench/cpu-step.sh (CPU) and tools/device/run.sh's `step` (GPU) run both side by side.
using System.Globalization;
using Engine.Bench.Step;
using Engine.Cuda;
using Engine.Graph;
using Engine.Nets;
using Engine.Ops;
using Engine.Tensors;

StepArgs opts;
try
{
    opts = StepArgs.Parse(args);
}
catch (StepArgsException e)
{
    Console.Error.WriteLine($"step: {e.Message}");
    return 2;
}

Graph graph;
try
{
    graph = NetRegistry.Build(opts.Net, new NetOptions { Input = opts.Input, Classes = opts.Classes, Width = opts.Width, Norm = opts.Norm });
}
catch (Exception e) when (e is KeyNotFoundException or NetOptionsException or ShapeException)
{
    Console.Error.WriteLine($"step: --net {opts.Net} --input {opts.Input}: {e.Message.Trim('\'', '"')}");
    return 2;
}

Backend backend;
try
{
    backend = opts.Gpu is { } gpu
        ? CudaBackend.Create(gpu, new CudaOptions
        {
            Precision = opts.Precision,
            Layout = opts.Layout,
            ConvSearch = opts.ConvBenchmark ? ConvAlgorithmSearch.Benchmark : ConvAlgorithmSearch.Heuristic,
            Deterministic = !opts.Nondeterministic,
            ConvApi = opts.ConvGraphApi ? ConvApi.Graph : ConvApi.Legacy,
        })
        : CpuBackends.Create(opts.Precision ?? Precision.Fp32, opts.Layout ?? Layout.Nchw);
}
catch (CudaUnavailableException e)
{
    Console.Error.WriteLine($"step: --gpu {opts.Gpu}: {e.Message}");
    return 3;
}
catch (PrecisionNotSupportedException e)
{
    Console.Error.WriteLine($"step: --precision {opts.Precision?.Name()}: {e.Message}");
    return 2;
}
catch (LayoutNotSupportedException e)
{
    Console.Error.WriteLine($"step: --layout {opts.Layout?.Name()}: {e.Message}");
    return 2;
}

using (backend)
{
    using var bench = new StepBench(graph, backend, opts.Batch, opts.Optimizer, opts.CudaGraph && opts.Gpu is not null);
    if (opts.SaveWeights is { } path)
    {
        bench.SaveWeights(path);
        Console.WriteLine($"initial weights written to {path}");
    }
    for (int i = 0; i < opts.Warmup; i++) bench.Step();
    var inOrder = Enumerable.Range(0, opts.Steps).Select(_ => bench.Step()).ToArray();
    var times = inOrder.Order().ToArray();
    double median = times[times.Length / 2];
    double imagesPerSecond = opts.Batch * 1000 / median;
    double tflops = bench.Flops / (median * 1e9);
    long? peak = bench.PeakDeviceBytes;
    string where = opts.Gpu is null ? $"{Environment.ProcessorCount} cores" : backend.Name;
    string precision = backend.Precision.Name();

    Console.WriteLine(F($"engine {opts.Net} input {opts.Input} batch {opts.Batch}: median {median:F1} ms/step (min {times[0]:F1}, max {times[^1]:F1}, {opts.Steps} steps, {where})"));
    Console.WriteLine(F($"  {imagesPerSecond:F1} images/s; {bench.Flops / 1e9:F1} GFLOP/step (3 x 2 x {bench.MultiplyAccumulates:N0} MAC); achieved {tflops:F3} TFLOP/s; {precision}, {backend.Layout.Name()}, {opts.Optimizer}{(opts.ConvGraphApi ? ", cuDNN graph API" : "")}"));
    Console.WriteLine(F($"  steps in order (ms): {string.Join(" ", inOrder.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))}"));
    if (bench.CudaGraphState is { } state) Console.WriteLine($"  cuda graph: {state}");
    if (peak is { } bytes) Console.WriteLine(F($"  peak device memory {bytes / 1048576.0:F0} MiB (allocator peak in use)"));
    if (backend is CudaBackend cuda && cuda.HostFallbacks.Count > 0)
        Console.WriteLine($"  WARNING: host fallbacks (CPU reference on host copies): {string.Join(", ", cuda.HostFallbacks.Select(kv => $"{kv.Key} x{kv.Value}"))}");

    if (opts.Profile)
    {
        using var profiler = new StepProfiler(backend);
        bench.Step(profiler);
        profiler.Reset();
        for (int i = 0; i < opts.Steps; i++) bench.Step(profiler);
        Console.WriteLine();
        Console.Write(ProfileTable.Format(profiler.Summary(), opts.Batch));
        Console.WriteLine();
    }

    if (opts.Convs)
    {
        Console.WriteLine();
        Console.Write(ConvProfile.Format(ConvProfile.Measure(graph, opts.Batch, opts.Steps)));
        Console.WriteLine();
    }

    if (opts.Markdown is { } md)
        MarkdownRow.Append(md, opts, where, precision, median, imagesPerSecond, bench.Flops, tflops, peak);
    Console.WriteLine(F($"RESULT engine {median:F3} {imagesPerSecond:F2} {(peak is { } p ? F($"{p / 1048576.0:F0}") : "-")}"));
}
return 0;

static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
