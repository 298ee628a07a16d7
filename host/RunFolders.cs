using System.Globalization;
using Engine.Training.Checkpoints;

namespace Host;

/// <summary>Where runs go: runs/&lt;net&gt;-&lt;timestamp&gt; unless --out says otherwise.</summary>
public static class RunFolders
{
    public const string Root = "runs";

    public static string NewRun(string net) =>
        Path.Combine(Root, $"{net}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");

    /// <summary>The most recent run of <paramref name="net"/> under runs/ that holds a checkpoint, or null.</summary>
    public static string? Latest(string net)
    {
        if (!Directory.Exists(Root)) return null;
        return Directory.GetDirectories(Root, net + "-*")
            .Where(Checkpoint.Exists)
            .OrderByDescending(d => File.GetLastWriteTimeUtc(Path.Combine(d, Checkpoint.RecordName)))
            .FirstOrDefault();
    }

    /// <summary>A run folder from a --weights argument (the folder, or the run a weights file belongs to); null outside a run.</summary>
    public static string? OfWeights(string weights) => RunFolder.Of(weights);

    /// <summary>The weights file named by --weights: the file, or a run folder's final (or latest checkpointed) weights.</summary>
    public static string WeightsFile(string weights)
    {
        try { return RunFolder.WeightsFile(weights); }
        catch (FileNotFoundException e) { throw new UsageException($"--weights {e.Message}"); }
    }
}
