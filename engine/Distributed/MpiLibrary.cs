using System.Runtime.InteropServices;
using Engine.Cuda.Native;

namespace Engine.Distributed;

/// <summary>
/// Open MPI's libmpi.so.40 (or the file <c>ENGINE_MPI_LIBRARY</c> names), loaded only when a run
/// is launched by mpirun or asks for MPI, and its predefined handles. A missing or foreign
/// library is one <see cref="MpiUnavailableException"/> line.
/// </summary>
internal sealed class MpiLibrary
{
    public const string DefaultFile = "libmpi.so.40";
    public const string PathVariable = "ENGINE_MPI_LIBRARY";

    private static readonly Lock Gate = new();
    private static MpiLibrary? _loaded;

    private MpiLibrary(string file, nint handle)
    {
        File = file;
        CommWorld = Symbol(handle, file, "ompi_mpi_comm_world");
        Byte = Symbol(handle, file, "ompi_mpi_byte");
        Float = Symbol(handle, file, "ompi_mpi_float");
        Double = Symbol(handle, file, "ompi_mpi_double");
        Int64 = Symbol(handle, file, "ompi_mpi_int64_t");
        Sum = Symbol(handle, file, "ompi_mpi_op_sum");
        InfoNull = Symbol(handle, file, "ompi_mpi_info_null");
    }

    public string File { get; }
    public nint CommWorld { get; }
    public nint Byte { get; }
    public nint Float { get; }
    public nint Double { get; }
    public nint Int64 { get; }
    public nint Sum { get; }
    public nint InfoNull { get; }

    /// <summary>The library file to load: <c>ENGINE_MPI_LIBRARY</c> when set, else libmpi.so.40 by the system loader's search.</summary>
    public static string FileName(Func<string, string?> environment) =>
        environment(PathVariable) is { Length: > 0 } path ? path : DefaultFile;

    public static MpiLibrary Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            if (!OperatingSystem.IsLinux())
                throw new MpiUnavailableException("MPI training is supported on Linux with Open MPI only (libmpi.so.40)");
            var file = FileName(Environment.GetEnvironmentVariable);
            if (!NativeLibrary.TryLoad(file, out var handle))
                throw new MpiUnavailableException($"cannot load the MPI library {file}: install Open MPI 4 (Debian: openmpi-bin libopenmpi-dev) or name the file with {PathVariable}");
            var library = new MpiLibrary(file, handle);
            NativeLibraries.Register(MpiNative.Lib, handle);
            return _loaded = library;
        }
    }

    private static nint Symbol(nint handle, string file, string name) =>
        NativeLibrary.TryGetExport(handle, name, out var address) ? address
            : throw new MpiUnavailableException($"{file} does not export {name}: it is not Open MPI (the engine binds Open MPI's handle ABI; MPICH and others are not supported)");
}

/// <summary>MPI was asked for (a run launched by mpirun) but cannot be used.</summary>
public sealed class MpiUnavailableException(string message) : Exception(message);
