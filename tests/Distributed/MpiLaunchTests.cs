using Engine.Tests.Cli;
using Engine.Tests.Training.Support;

namespace Engine.Tests.Distributed;

/// <summary>How a process decides whether it is one of several ranks, without mpirun.</summary>
public class MpiLaunchTests
{
    [Test]
    public void A_run_on_its_own_never_loads_libmpi()
    {
        Assume.That(File.Exists("/proc/self/maps"), "needs Linux's /proc");
        Assume.That(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE"), Is.Null, "the tests themselves run under mpirun");
        using var dir = new TempDir();
        var (code, _, stderr) = CliRunner.Run([Host.TrainCommand.Create()], ["train", "--net", "vgg11", "--input", "3x32x32", "--width", "0.0625", "--classes", "10",
            "--examples", "16", "--batch", "4", "--epochs", "1", "--threads", "1", "--out", dir["run"]]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.ReadAllText("/proc/self/maps"), Does.Not.Contain("libmpi"));
    }

    /// <summary>The host program as a rank of a 2-rank job would see its environment, with no mpirun around it.</summary>
    private static (int Code, string Err) AsRank(string mpiLibrary, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(MpiRun.Dotnet)
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.ArgumentList.Add(MpiRun.HostDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMPI_COMM_WORLD_SIZE"] = "2";
        psi.Environment["ENGINE_MPI_LIBRARY"] = mpiLibrary;
        using var proc = System.Diagnostics.Process.Start(psi)!;
        var stdout = proc.StandardOutput.ReadToEndAsync();
        string stderr = proc.StandardError.ReadToEnd();
        stdout.Wait();
        proc.WaitForExit();
        return (proc.ExitCode, stderr.Trim());
    }

    [Test]
    public void Launched_by_mpirun_without_a_usable_MPI_library_is_one_line_and_exit_5()
    {
        Assert.That(AsRank("/nonexistent/libmpi.so.40", "train", "--examples", "16"), Is.EqualTo((5, "error: cannot load the MPI library /nonexistent/libmpi.so.40: " +
            "install Open MPI 4 (Debian: openmpi-bin libopenmpi-dev) or name the file with ENGINE_MPI_LIBRARY")));
    }

    [Test]
    public void A_library_that_is_not_Open_MPI_is_refused()
    {
        var libc = new[] { "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6" }.FirstOrDefault(File.Exists);
        Assume.That(libc, Is.Not.Null, "no libc.so.6 to stand in for a foreign MPI");
        Assert.That(AsRank(libc!, "train", "--examples", "16"), Is.EqualTo((5, $"error: {libc} does not export ompi_mpi_comm_world: it is not Open MPI " +
            "(the engine binds Open MPI's handle ABI; MPICH and others are not supported)")));
    }

    [Test]
    public void Other_commands_refuse_to_run_under_mpirun() =>
        Assert.That(AsRank("/nonexistent", "lr-find", "--net", "vgg11"),
            Is.EqualTo((2, "error: host lr-find runs in one process; launch it without mpirun (only host train is data-parallel)")));
}
