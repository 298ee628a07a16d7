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

    /// <summary>
    /// A run folder from a --weights argument: the folder itself, or the folder of a weights file
    /// (also from its checkpoints/ subfolder). Null when the file is not inside a run.
    /// </summary>
    public static string? OfWeights(string weights)
    {
        if (Directory.Exists(weights)) return Checkpoint.Exists(weights) ? weights : null;
        var dir = Path.GetDirectoryName(Path.GetFullPath(weights));
        for (int up = 0; up < 2 && dir is not null; up++, dir = Path.GetDirectoryName(dir))
            if (Checkpoint.Exists(dir)) return dir;
        return null;
    }

    /// <summary>The weights file named by --weights: the file, or a run folder's final (or latest checkpointed) weights.</summary>
    public static string WeightsFile(string weights)
    {
        if (File.Exists(weights)) return weights;
        if (!Directory.Exists(weights)) throw new UsageException($"--weights {weights}: no such file or folder");
        var final = Path.Combine(weights, Engine.Training.Trainer.WeightsFile);
        if (File.Exists(final)) return final;
        if (Checkpoint.Exists(weights)) return Path.Combine(weights, Checkpoint.ReadState(weights).WeightsFile);
        throw new UsageException($"--weights {weights}: the folder holds neither {Engine.Training.Trainer.WeightsFile} nor a checkpoint");
    }
}
