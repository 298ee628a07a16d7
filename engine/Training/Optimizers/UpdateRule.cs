using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Training.Optimizers;

/// <summary>
/// An optimizer's update as plain loops over equal-length spans of values, gradients and up to
/// two state tensors: the reference, run in the CPU backend's precision.
/// </summary>
internal interface IUpdateRule
{
    void Apply<T>(Span<T> w, Span<T> g, Span<T> s0, Span<T> s1) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Runs a rule where a backend without optimizer kernels keeps its parameters.</summary>
internal static class UpdateRule
{
    private const int HostChunk = 1 << 20;

    /// <summary>
    /// In place on a CPU backend (float arithmetic for CpuBackend&lt;float&gt;); on any other backend
    /// on host copies in double, a chunk at a time, noted as a host fallback ("sgd update").
    /// </summary>
    public static void Run<R>(R rule, string what, Backend backend, BufferSlice w, BufferSlice g, BufferSlice s0, BufferSlice? s1 = null)
        where R : IUpdateRule
    {
        foreach (var s in new[] { g, s0, s1 ?? s0 })
            if (s.Count != w.Count) throw new ArgumentException($"{what}: slices differ in length: {w.Count} and {s.Count}");
        switch (backend)
        {
            case CpuBackend<float>: OnCpu<float, R>(rule, w, g, s0, s1); break;
            case CpuBackend<double>: OnCpu<double, R>(rule, w, g, s0, s1); break;
            default: OnHost(rule, what, backend, w, g, s0, s1); break;
        }
    }

    /// <summary>Over chunks in parallel: each element's update is independent, so the result is the same as one pass.</summary>
    private static void OnCpu<T, R>(R rule, BufferSlice w, BufferSlice g, BufferSlice s0, BufferSlice? s1)
        where T : unmanaged, IFloatingPointIeee754<T> where R : IUpdateRule
        => ParallelWork.ForChunks(checked((int)w.Count), (start, count) => rule.Apply(
            CpuBackend<T>.F(w).Slice(start, count), CpuBackend<T>.F(g).Slice(start, count), CpuBackend<T>.F(s0).Slice(start, count),
            s1 is { } s ? CpuBackend<T>.F(s).Slice(start, count) : Span<T>.Empty));

    private static void OnHost<R>(R rule, string what, Backend backend, BufferSlice w, BufferSlice g, BufferSlice s0, BufferSlice? s1)
        where R : IUpdateRule
    {
        backend.NoteHostFallback(what);
        BufferSlice[] slices = s1 is { } s ? [w, g, s0, s] : [w, g, s0];
        for (long start = 0; start < w.Count; start += HostChunk)
        {
            int n = (int)Math.Min(HostChunk, w.Count - start);
            var parts = slices.Select(p => p.Sub(start, n)).ToArray();
            var host = parts.Select(p => { var a = new double[n]; backend.Download(p, a); return a; }).ToArray();
            rule.Apply<double>(host[0], host[1], host[2], host.Length > 3 ? host[3] : Span<double>.Empty);
            for (int i = 0; i < parts.Length; i++)
                if (i != 1) backend.Upload(parts[i], host[i]);  // the gradients are only read
        }
    }
}
