using System.Globalization;
using Engine.Distributed;

namespace Host;

/// <summary>
/// Data-parallel launch: under Open MPI's mpirun (<c>OMPI_COMM_WORLD_SIZE</c> set) a command joins
/// the job's ranks over MPI; otherwise it runs on its own and never loads libmpi. Rank 0 alone
/// prints to stdout. A rank that fails stops the whole job (MPI_Abort), so no rank waits for it.
/// </summary>
internal static class Ranks
{
    public const double DefaultTimeoutSeconds = 300;

    public static ICollectives Join(double timeoutSeconds)
    {
        if (!(timeoutSeconds > 0) || double.IsInfinity(timeoutSeconds))
            throw new UsageException($"--collective-timeout {timeoutSeconds.ToString(CultureInfo.InvariantCulture)}: must be a positive number of seconds");
        if (!MpiCollectives.Launched(Environment.GetEnvironmentVariable)) return SingleProcess.Instance;
        var group = MpiCollectives.Start(TimeSpan.FromSeconds(timeoutSeconds));
        if (group.Rank != 0) Console.SetOut(TextWriter.Null);
        Console.WriteLine($"data-parallel: {group.Size} ranks over {group.LibraryVersion}, collective timeout {timeoutSeconds.ToString(CultureInfo.InvariantCulture)} s");
        return group;
    }

    /// <summary>Several ranks on GPUs: NCCL between them (a missing NCCL is one line, exit 3); null on the CPU or alone.</summary>
    public static Engine.Graph.IDeviceCollectives? JoinGpus(Engine.Graph.Backend backend, ICollectives group, double timeoutSeconds)
    {
        if (group.Size == 1 || backend is not Engine.Cuda.CudaBackend cuda) return null;
        try { return Engine.Cuda.NcclCollectives.Create(cuda, group, TimeSpan.FromSeconds(timeoutSeconds)); }
        catch (Engine.Cuda.Native.CudaLibraryNotFoundException e)
        {
            throw new DeviceUnavailableException($"data-parallel training on GPUs needs NCCL 2: {e.Message}");
        }
    }

    /// <summary>Commands other than train run in one process: under mpirun they would repeat the same work and write the same files from every rank.</summary>
    public static void RequireOneProcess(string command)
    {
        if (MpiCollectives.Launched(Environment.GetEnvironmentVariable))
            throw new UsageException($"host {command} runs in one process; launch it without mpirun (only host train is data-parallel)");
    }

    /// <summary>Runs <paramref name="body"/> as one rank: on a failure the line is printed here and, with other ranks, the job is aborted with the exit code; MPI is finalised after success.</summary>
    public static int Run(ICollectives group, Func<int> body)
    {
        if (group is not MpiCollectives mpi) return body();
        int code;
        try { code = body(); }
        catch (Exception e) when (CliErrors.Report(e) is int reported) { code = reported; }
        if (code is ExitCodes.Success or ExitCodes.Interrupted)
        {
            mpi.Dispose();
            return code;
        }
        Console.Out.Flush();
        Console.Error.Flush();
        mpi.Abort(code);
        return code;
    }
}
