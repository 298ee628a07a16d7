namespace Engine.Training.Checkpoints;

/// <summary>Finding a run folder and its weights from a path that names either.</summary>
public static class RunFolder
{
    /// <summary>
    /// The run folder of <paramref name="weightsOrFolder"/>: the folder itself, or the folder of a
    /// weights file (also from its checkpoints/ subfolder). Null when it is not inside a run.
    /// </summary>
    public static string? Of(string weightsOrFolder)
    {
        if (Directory.Exists(weightsOrFolder)) return Checkpoint.Exists(weightsOrFolder) ? weightsOrFolder : null;
        var dir = Path.GetDirectoryName(Path.GetFullPath(weightsOrFolder));
        for (int up = 0; up < 2 && dir is not null; up++, dir = Path.GetDirectoryName(dir))
            if (Checkpoint.Exists(dir)) return dir;
        return null;
    }

    /// <summary>The weights file: the file itself, or a run folder's final (else latest checkpointed) weights.</summary>
    /// <exception cref="FileNotFoundException">Neither a file nor a folder holding weights; the message says which.</exception>
    public static string WeightsFile(string weightsOrFolder)
    {
        if (File.Exists(weightsOrFolder)) return weightsOrFolder;
        if (!Directory.Exists(weightsOrFolder)) throw new FileNotFoundException($"{weightsOrFolder}: no such file or folder", weightsOrFolder);
        var final = Path.Combine(weightsOrFolder, Trainer.WeightsFile);
        if (File.Exists(final)) return final;
        if (Checkpoint.Exists(weightsOrFolder)) return Path.Combine(weightsOrFolder, Checkpoint.ReadState(weightsOrFolder).WeightsFile);
        throw new FileNotFoundException($"{weightsOrFolder}: the folder holds neither {Trainer.WeightsFile} nor a checkpoint", final);
    }
}
