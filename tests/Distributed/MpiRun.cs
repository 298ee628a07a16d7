using System.Diagnostics;
using System.Text;

namespace Engine.Tests.Distributed;

/// <summary>Launches the host program under Open MPI's mpirun (or alone), capturing its output; tests skip with the reason when mpirun is missing.</summary>
internal static class MpiRun
{
    public static string HostDll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "host.dll");
            if (!File.Exists(dll)) Assert.Ignore($"host.dll not beside the tests ({dll})");
            return dll;
        }
    }

    public static string Mpirun
    {
        get
        {
            var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
            if (found is null) Assert.Ignore("mpirun not found: install Open MPI (Debian: openmpi-bin libopenmpi-dev; tools/setup/install-deps.sh does)");
            return found!;
        }
    }

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p ? p : "dotnet";

    /// <summary>mpirun's arguments for <paramref name="ranks"/> ranks of `dotnet host.dll ARGS` on this machine (as root too, more ranks than cores).</summary>
    public static string[] Launch(int ranks, params string[] args) =>
        ["--allow-run-as-root", "--oversubscribe", "-n", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), Dotnet, HostDll, .. args];

    public static Process Start(string file, IEnumerable<string> args, StringBuilder output)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // One core per rank, and shared memory that works in containers (no ptrace-based single copy).
        psi.Environment["DOTNET_PROCESSOR_COUNT"] = "1";
        psi.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        var proc = Process.Start(psi)!;
        proc.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        proc.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        proc.BeginOutputReadLine();
        proc.BeginErrorReadLine();
        return proc;
    }

    /// <summary>Runs to the end (at most <paramref name="limit"/>); the exit code and everything printed.</summary>
    public static (int Code, string Output) Run(string file, IEnumerable<string> args, TimeSpan? limit = null)
    {
        var output = new StringBuilder();
        using var proc = Start(file, args, output);
        if (!proc.WaitForExit(limit ?? TimeSpan.FromMinutes(2)))
        {
            proc.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(file)} did not finish in time:\n{output}");
        }
        proc.WaitForExit();
        lock (output) return (proc.ExitCode, output.ToString());
    }

    public static (int Code, string Output) Ranks(int ranks, params string[] args) => Run(Mpirun, Launch(ranks, args));
    public static (int Code, string Output) Alone(params string[] args) => Run(Dotnet, [HostDll, .. args]);

    /// <summary>The pid of the rank numbered <paramref name="rank"/> among the descendants of <paramref name="launcher"/> (read from /proc).</summary>
    public static int? RankPid(int launcher, int rank)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || !Descends(pid, launcher)) continue;
            try
            {
                var env = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (env.Contains($"OMPI_COMM_WORLD_RANK={rank}") && File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("host.dll")) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    private static bool Descends(int pid, int ancestor)
    {
        for (int i = 0; i < 8 && pid > 1; i++)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                pid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException) { return false; }
            if (pid == ancestor) return true;
        }
        return false;
    }
}
