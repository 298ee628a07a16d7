using System.CommandLine;
using Engine.Cuda;
using Engine.Graph;

namespace Host;

/// <summary>The --device / --gpu options and the backend they pick.</summary>
public sealed class DeviceChoice
{
    public Option<string?> Device { get; } = new("--device") { Description = "Where to run: cpu (default) or gpu (the first GPU; see --gpu)." };
    public Option<int?> Gpu { get; } = new("--gpu") { Description = "Run on CUDA GPU number N (needs the CUDA backend and an NVIDIA driver)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Device);
        command.Options.Add(Gpu);
    }

    /// <summary>The GPU index asked for, or null for the CPU. Bad combinations are usage errors.</summary>
    public int? GpuIndex(ParseResult r)
    {
        var device = r.GetValue(Device)?.ToLowerInvariant();
        var gpu = r.GetValue(Gpu);
        if (gpu is < 0) throw new UsageException($"--gpu {gpu}: the GPU number must be 0 or more");
        return device switch
        {
            null => gpu,
            "cpu" when gpu is not null => throw new UsageException("--device cpu and --gpu contradict each other; give one of them"),
            "cpu" => null,
            "gpu" or "cuda" => gpu ?? 0,
            _ => throw new UsageException($"--device '{device}': expected cpu or gpu"),
        };
    }

    /// <summary>
    /// The backend of <paramref name="precision"/> (null: the device's default, fp32 on the CPU).
    /// A GPU that cannot be used is a <see cref="DeviceUnavailableException"/>; a precision the
    /// device cannot run is a usage error naming --precision.
    /// </summary>
    /// <param name="source">What asked for the precision, for the error: the option, or e.g. a resumed run.</param>
    /// <param name="layout">How activations are stored (null: the device's default, NCHW on the CPU); a GPU refuses NHWC for now.</param>
    /// <param name="layoutSource">What asked for the layout, for the error.</param>
    public static Backend Create(int? gpu, Precision? precision = null, string source = "--precision", Engine.Tensors.Layout? layout = null,
        string layoutSource = "--layout")
    {
        try
        {
            if (gpu is not int ordinal) return CpuBackends.Create(precision ?? Precision.Fp32, layout ?? Engine.Tensors.Layout.Nchw);
            return CudaBackend.Create(ordinal, new CudaOptions { Precision = precision, Layout = layout });
        }
        catch (LayoutNotSupportedException e)
        {
            throw new UsageException($"{layoutSource} {layout?.Name()}{(gpu is null ? "" : $" --gpu {gpu}")}: {e.Message}");
        }
        catch (CudaUnavailableException e)
        {
            throw new DeviceUnavailableException($"{e.Message}; run on the CPU with --device cpu");
        }
        catch (PrecisionNotSupportedException e)
        {
            throw new UsageException($"{source} {precision?.Name()}{(gpu is null ? "" : $" --gpu {gpu}")}: {e.Message}");
        }
    }
}

/// <summary>The device asked for cannot be used; printed as one line, non-zero exit.</summary>
public sealed class DeviceUnavailableException(string message) : Exception(message);
