using Engine.IO;
using Engine.Tests.Training.Support;
using Engine.Training.Checkpoints;

namespace Engine.Tests.Cli;

/// <summary>
/// `host train` when the run folder cannot be written: one line naming the file and the cause,
/// exit code 4, the previous checkpoint byte for byte as it was, no temporary files left, and a
/// run that resumes once the fault is gone. A full or read-only disk is simulated under the
/// checkpoint writer (tests run as root, where chmod does not stop writes).
/// </summary>
[NonParallelizable]
public class WriteFaultTests
{
    private static readonly string[] Tiny = ["--net", "segnet", "--width", "0.125", "--examples", "24", "--batch", "4", "--epochs", "2", "--threads", "2"];

    [TearDown]
    public void RemoveFault() => AtomicFile.WrapStream = null;

    [Test]
    public void Out_naming_an_existing_file_is_one_line_and_exit_4_and_the_file_is_untouched()
    {
        using var dir = new TempDir();
        var file = dir["taken"];
        File.WriteAllText(file, "someone's notes");
        var (code, _, stderr) = TrainCommandTests.Run(["train", .. Tiny, "--out", file]);
        Assert.That(code, Is.EqualTo(4), stderr);
        Assert.That(ErrorLines(stderr), Is.EqualTo(new[] { $"error: {file}: a file is in the way of the run folder" }), stderr);
        Assert.That(File.ReadAllText(file), Is.EqualTo("someone's notes"));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { file }));
    }

    // The causes as .NET words them on Linux: "<strerror> : '<path>'", or an access exception.
    [TestCase("No space left on device", 100, TestName = "Disk_full_in_the_middle_of_a_checkpoint")]
    [TestCase("Read-only file system", 0, TestName = "Run_folder_turned_read_only_before_a_checkpoint")]
    [TestCase("permission denied", 0, TestName = "Run_folder_without_write_permission_before_a_checkpoint")]
    public void A_failed_checkpoint_write_is_one_line_exit_4_and_keeps_the_previous_checkpoint(string cause, int failAfterBytes)
    {
        using var dir = new TempDir();
        var run = dir["run"];
        string? failed = null;
        Dictionary<string, byte[]>? before = null;
        // The first checkpoint (step 2) is written; every later checkpoint file fails.
        AtomicFile.WrapStream = (target, stream) =>
        {
            if (!Checkpoint.Exists(run) || !target.Contains($"{Path.DirectorySeparatorChar}{Checkpoint.Folder}{Path.DirectorySeparatorChar}")) return stream;
            if (failed is null)
            {
                failed = target;
                before = CheckpointFiles(run);
            }
            return new FaultyStream(stream, failAfterBytes, () => cause == "permission denied"
                ? new UnauthorizedAccessException($"Access to the path '{target}.tmp-1' is denied.")
                : new IOException($"{cause} : '{target}.tmp-1'"));
        };

        var (code, _, stderr) = TrainCommandTests.Run(["train", .. Tiny, "--out", run, "--checkpoint-every", "2"]);

        AtomicFile.WrapStream = null;
        Assert.That(code, Is.EqualTo(4), stderr);
        Assert.That(failed, Is.Not.Null);
        Assert.That(ErrorLines(stderr), Is.EqualTo(new[] { $"error: {failed}: {cause}" }), stderr);
        Assert.That(stderr, Does.Not.Contain("   at ").And.Not.Contain("Exception"), "no stack trace");
        Assert.That(CheckpointFiles(run), Is.EqualTo(before), "the previous checkpoint is byte for byte as it was");
        Assert.That(Checkpoint.ReadState(run).Step, Is.EqualTo(2));
        Assert.That(Directory.GetFiles(run, "*.tmp-*", SearchOption.AllDirectories), Is.Empty, "no temporary files are left");
        foreach (var f in new[] { "train.log", "steps.csv" }) Assert.That(File.Exists(Path.Combine(run, f)), f);

        (code, _, stderr) = TrainCommandTests.Run("train", "--out", run, "--resume");
        Assert.That(code, Is.Zero, stderr);
    }

    /// <summary>A real full disk: a 2200 KiB tmpfs holds two checkpoints of the tiny segnet (885 KiB each) but not a third.</summary>
    [Test]
    public void A_real_full_tmpfs_during_a_checkpoint_is_one_line_exit_4_and_keeps_the_previous_checkpoint()
    {
        using var dir = new TempDir();
        var mount = dir["disk"];
        Directory.CreateDirectory(mount);
        if (Shell("mount", "-t", "tmpfs", "-o", "size=2200k", "tmpfs", mount) != 0) Assert.Ignore("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        try
        {
            var run = Path.Combine(mount, "run");
            var (code, _, stderr) = TrainCommandTests.Run(["train", .. Tiny, "--out", run, "--checkpoint-every", "2", "--max-steps", "4"]);
            Assert.That(code, Is.Zero, stderr);
            var before = CheckpointFiles(run);

            (code, _, stderr) = TrainCommandTests.Run("train", "--out", run, "--resume");
            Assert.That(code, Is.EqualTo(4), stderr);
            Assert.That(ErrorLines(stderr), Is.EqualTo(new[] { $"error: {Path.Combine(run, "checkpoints", "step-00000006.optimizer.safetensors")}: No space left on device" }), stderr);
            Assert.That(stderr, Does.Not.Contain("   at "));
            Assert.That(CheckpointFiles(run), Is.EqualTo(before));
            Assert.That(Directory.GetFiles(run, "*.tmp-*", SearchOption.AllDirectories), Is.Empty);

            Assert.That(Shell("mount", "-o", "remount,size=16m", mount), Is.Zero);
            (code, _, stderr) = TrainCommandTests.Run("train", "--out", run, "--resume");
            Assert.That(code, Is.Zero, stderr);
        }
        finally { Shell("umount", mount); }
    }

    /// <summary>A real read-only file system: a new run cannot create its folder, a resumed one cannot append to its log.</summary>
    [Test]
    public void A_real_read_only_tmpfs_is_one_line_exit_4_for_a_new_and_a_resumed_run()
    {
        using var dir = new TempDir();
        var mount = dir["disk"];
        Directory.CreateDirectory(mount);
        if (Shell("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount) != 0) Assert.Ignore("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        try
        {
            var run = Path.Combine(mount, "run");
            var (code, _, stderr) = TrainCommandTests.Run(["train", .. Tiny, "--out", run, "--checkpoint-every", "2", "--max-steps", "4"]);
            Assert.That(code, Is.Zero, stderr);
            var before = CheckpointFiles(run);
            Assert.That(Shell("mount", "-o", "remount,ro", mount), Is.Zero);

            (code, _, stderr) = TrainCommandTests.Run(["train", .. Tiny, "--out", Path.Combine(mount, "new")]);
            Assert.That(code, Is.EqualTo(4), stderr);
            Assert.That(ErrorLines(stderr), Is.EqualTo(new[] { $"error: {Path.Combine(mount, "new")}: Read-only file system" }), stderr);

            (code, _, stderr) = TrainCommandTests.Run("train", "--out", run, "--resume");
            Assert.That(code, Is.EqualTo(4), stderr);
            Assert.That(ErrorLines(stderr), Is.EqualTo(new[] { $"error: {Path.Combine(run, "train.log")}: Read-only file system" }), stderr);
            Assert.That(stderr, Does.Not.Contain("   at "));
            Assert.That(CheckpointFiles(run), Is.EqualTo(before));
        }
        finally { Shell("umount", mount); }
    }

    private static int Shell(string program, params string[] args)
    {
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception) { return -1; }
    }

    [TestCase("No space left on device : '/runs/a/checkpoint.json.tmp-7'", "/runs/a/checkpoint.json.tmp-7: No space left on device")]
    [TestCase("Access to the path '/runs/a' is denied.", "/runs/a: permission denied")]
    [TestCase("The file '/runs/a' already exists.", "/runs/a: a file of that name is in the way")]
    [TestCase("something else", "something else")]
    public void Io_messages_become_path_and_cause(string message, string line)
    {
        Exception e = message.StartsWith("Access", StringComparison.Ordinal) ? new UnauthorizedAccessException(message) : new IOException(message);
        Assert.That(IoErrors.Describe(e), Is.EqualTo(line));
    }

    private static string[] ErrorLines(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();

    private static Dictionary<string, byte[]> CheckpointFiles(string run) =>
        Directory.GetFiles(Path.Combine(run, Checkpoint.Folder)).Where(f => !f.Contains(".tmp-", StringComparison.Ordinal))
            .Append(Path.Combine(run, Checkpoint.RecordName))
            .ToDictionary(f => f, File.ReadAllBytes);

    /// <summary>Passes writes through until <c>failAfter</c> bytes, then throws what a failing disk throws.</summary>
    private sealed class FaultyStream(Stream inner, long failAfter, Func<Exception> fault) : Stream
    {
        private long _written;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfter) throw fault();
            _written += buffer.Length;
            inner.Write(buffer);
        }
    }
}
