using Engine.Cuda;
using Engine.Cuda.Native;

namespace Host;

/// <summary>
/// The CUDA part of `host info`: one line for the driver and libraries, then one per GPU; or a
/// single line saying why no GPU is usable. Never throws: a broken installation is something to
/// report, not a crash.
/// </summary>
public static class DevicesInfo
{
    public static IReadOnlyList<string> Lines()
    {
        try
        {
            return Describe();
        }
        catch (Exception e)
        {
            return [$"CUDA: unusable ({e.GetType().Name}: {OneLine(e.Message)})"];
        }
    }

    private static IReadOnlyList<string> Describe()
    {
        if (!NativeLibraries.TryLoadDriver(out var missing))
            return [$"CUDA: no GPU usable: no driver library ({OneLine(missing)})"];

        var driver = Attempt(CudaDevice.DriverVersion);
        try
        {
            CudaDevice.Initialize();
        }
        catch (CudaException e)
        {
            return [$"CUDA: no GPU usable: cuInit returned {e.ErrorName}{Detail(e)} (driver library for CUDA {driver})"];
        }

        var count = CudaDevice.Count();
        if (count == 0) return [$"CUDA: no GPU usable: the driver (CUDA {driver}) reports no devices"];

        var lines = new List<string> { $"CUDA driver {driver}; cuBLAS {Library(NativeLibraries.TryLoadCublas, LibraryVersions.Cublas)}; cuDNN {Library(NativeLibraries.TryLoadCudnn, LibraryVersions.Cudnn)}" };
        for (int i = 0; i < count; i++)
        {
            try
            {
                var d = CudaDevice.Query(i);
                lines.Add($"GPU {d.Ordinal}: {d.Name}, {d.Multiprocessors} SMs, {d.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, compute capability {d.ComputeCapability}");
            }
            catch (CudaException e)
            {
                lines.Add($"GPU {i}: cannot be queried: {OneLine(e.Message)}");
            }
        }
        return lines;
    }

    private delegate bool TryLoad(out string? error);

    private static string Library(TryLoad load, Func<string> version)
    {
        if (!load(out var error)) return $"unavailable ({OneLine(error)})";
        return Attempt(version);
    }

    private static string Attempt(Func<string> f)
    {
        try
        {
            return f();
        }
        catch (Exception e) when (e is CudaException or EntryPointNotFoundException or DllNotFoundException or CudaLibraryNotFoundException)
        {
            return $"unknown ({OneLine(e.Message)})";
        }
    }

    private static string Detail(CudaException e) => e.Detail is { } d ? $" ({OneLine(d)})" : "";

    private static string OneLine(string? s) => (s ?? "").ReplaceLineEndings(" ").Trim();
}
