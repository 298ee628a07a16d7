using Engine.IO;
using Engine.Tests.Training.Support;
using Engine.Training.Checkpoints;

namespace Engine.Tests.Training;

/// <summary>
/// The atomic write's Windows path, run here: replace over an existing file, retries while another
/// process holds the target (Windows refuses the rename then, where Linux replaces), a read-only
/// target, and a failure that leaves the previous file whole.
/// </summary>
[NonParallelizable]
public class AtomicFileWindowsTests
{
    private readonly List<int> _sleeps = [];
    private int _moves;

    [SetUp]
    public void Reset()
    {
        _sleeps.Clear();
        _moves = 0;
    }

    [TearDown]
    public void RestoreReplace() => AtomicFile.Replace = FileReplace.Over;

    /// <summary>Windows' rename; the first <paramref name="locked"/> attempts fail as a scanner holding the file makes them fail.</summary>
    private void UseWindowsPath(int locked = 0, Action<string, string>? before = null) =>
        AtomicFile.Replace = (source, target) => FileReplace.Over(source, target, windows: true, move: (s, t) =>
        {
            before?.Invoke(s, t);
            if (++_moves <= locked) throw new IOException("The process cannot access the file because it is being used by another process.", unchecked((int)0x80070020));
            File.Move(s, t, overwrite: true);
        }, sleep: _sleeps.Add);

    [Test]
    public void Replaces_an_existing_checkpoint_record()
    {
        using var dir = new TempDir();
        var record = dir[Checkpoint.RecordName];
        UseWindowsPath();

        AtomicFile.WriteText(record, "old");
        AtomicFile.WriteText(record, "new");

        Assert.That(File.ReadAllText(record), Is.EqualTo("new"));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { record }), "no temporary file is left");
        Assert.That(_sleeps, Is.Empty);
    }

    [Test]
    public void Retries_while_another_process_holds_the_target()
    {
        using var dir = new TempDir();
        var path = dir["weights.safetensors"];
        File.WriteAllText(path, "old");
        UseWindowsPath(locked: 3);

        AtomicFile.WriteText(path, "new");

        Assert.That(File.ReadAllText(path), Is.EqualTo("new"));
        Assert.That(_moves, Is.EqualTo(4));
        Assert.That(_sleeps, Is.EqualTo(new[] { 10, 20, 40 }));
    }

    [Test]
    public void Gives_up_after_the_last_attempt_and_leaves_the_old_file_whole()
    {
        using var dir = new TempDir();
        var path = dir[Checkpoint.RecordName];
        File.WriteAllText(path, "old");
        UseWindowsPath(locked: int.MaxValue);

        Assert.That(() => AtomicFile.WriteText(path, "new"), Throws.TypeOf<FileWriteException>().With.Message.StartWith(path + ": "));

        Assert.That(_moves, Is.EqualTo(FileReplace.WindowsAttempts));
        Assert.That(_sleeps.Sum(), Is.LessThan(3000), "a locked file costs seconds, not minutes");
        Assert.That(File.ReadAllText(path), Is.EqualTo("old"));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { path }), "the temporary file is removed");
    }

    [Test]
    public void Clears_a_read_only_target_before_replacing_it()
    {
        using var dir = new TempDir();
        var path = dir["metrics.csv"];
        File.WriteAllText(path, "old");
        File.SetAttributes(path, FileAttributes.ReadOnly);
        bool readOnlyAtMove = true;
        UseWindowsPath(before: (_, t) => readOnlyAtMove = File.GetAttributes(t).HasFlag(FileAttributes.ReadOnly));

        AtomicFile.WriteText(path, "new");

        Assert.That(readOnlyAtMove, Is.False);
        Assert.That(File.ReadAllText(path), Is.EqualTo("new"));
    }

    [Test]
    public void A_missing_file_or_folder_is_not_retried()
    {
        using var dir = new TempDir();
        Assert.Catch<IOException>(() =>
            FileReplace.Over(dir["nope/a"], dir["nope/b"], windows: true, move: (s, t) => { _moves++; File.Move(s, t, true); }, sleep: _sleeps.Add));
        Assert.That(_moves, Is.EqualTo(1));
        Assert.That(_sleeps, Is.Empty);
    }
}
