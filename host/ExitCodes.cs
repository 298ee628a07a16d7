namespace Host;

/// <summary>The host's exit codes, listed in `host train --help` and the README.</summary>
public static class ExitCodes
{
    /// <summary>Done: every epoch, or stopped as asked by --max-steps.</summary>
    public const int Success = 0;
    /// <summary>Training diverged (non-finite loss, weights or validation); predict: some input unreadable.</summary>
    public const int Failed = 1;
    /// <summary>A problem with the arguments or the input files.</summary>
    public const int Usage = 2;
    /// <summary>The device asked for cannot be used (no GPU backend, no driver).</summary>
    public const int DeviceUnavailable = 3;
    /// <summary>A file or folder could not be written (disk full, read-only, permission, a file in the way).</summary>
    public const int FileSystem = 4;
    /// <summary>Data-parallel training: a rank died, hung past --collective-timeout or disagreed with the others; MPI unusable.</summary>
    public const int RankFailed = 5;
    /// <summary>Stopped by Ctrl-C or SIGTERM after writing a checkpoint (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    public const string Help = "Exit codes: 0 done (also when --max-steps is reached), 1 training diverged, 2 bad arguments or input, " +
        "3 device unavailable, 4 a file could not be written, 5 a data-parallel rank failed, hung or disagreed (or MPI is unusable), 130 stopped by Ctrl-C/SIGTERM (resumable).";
}
