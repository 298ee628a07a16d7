using System.CommandLine;
using System.Diagnostics;
using Engine.Tests.Training.Support;
using Host;

namespace Engine.Tests.Cli;

/// <summary>`host train`, `host eval` and `host predict` through the host's error handling, on tiny synthetic runs.</summary>
[NonParallelizable]
public class TrainCommandTests
{
    // segnet at 1/8 width on 32x32 synthetic images: a few milliseconds per step.
    private static readonly string[] Tiny = ["--net", "segnet", "--width", "0.125", "--examples", "24", "--batch", "4", "--epochs", "2", "--threads", "2"];

    /// <summary><see cref="Tiny"/> with one option's value replaced.</summary>
    private static string[] TinyWith(string option, string value)
    {
        var args = (string[])Tiny.Clone();
        args[Array.IndexOf(args, option) + 1] = value;
        return args;
    }

    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        return CliRunner.Run([TrainCommand.Create(), EvalCommand.Create(), PredictCommand.Create()], args);
    }

    [TestCase(new[] { "--epochs", "0" }, "--epochs 0: must be at least 1")]
    [TestCase(new[] { "--batch", "-2" }, "--batch -2: must be at least 1")]
    [TestCase(new[] { "--lr", "-0.1" }, "--lr -0.1: must be a positive number")]
    [TestCase(new[] { "--momentum", "1.5" }, "--momentum 1.5: must be in [0, 1)")]
    [TestCase(new[] { "--optimizer", "rmsprop" }, "--optimizer 'rmsprop': expected sgd, sgd-unit or adam")]
    [TestCase(new[] { "--cuda-graph", "maybe" }, "--cuda-graph 'maybe': expected on or off")]
    [TestCase(new[] { "--schedule", "cosine" }, "--schedule: unknown schedule 'cosine'")]
    [TestCase(new[] { "--schedule", "triangular2:half=x" }, "--schedule: schedule 'triangular2': half=x")]
    [TestCase(new[] { "--data", "/no/such/folder" }, "--data /no/such/folder: no such folder")]
    [TestCase(new[] { "--init-from", "/no/such/file.safetensors" }, "--init-from /no/such/file.safetensors: no such file")]
    [TestCase(new[] { "--device", "tpu" }, "--device 'tpu': expected cpu or gpu")]
    [TestCase(new[] { "--device", "cpu", "--gpu", "0" }, "--device cpu and --gpu contradict each other")]
    [TestCase(new[] { "--gpu", "-1" }, "--gpu -1: the GPU number must be 0 or more")]
    [TestCase(new[] { "--net", "resnet50" }, "--net 'resnet50': unknown net; known nets: vovnet57")]
    [TestCase(new[] { "--net", "segnet", "--input", "3x32" }, "--input '3x32': expected CxHxW")]
    [TestCase(new[] { "--net", "segnet", "--input", "1x32x32" }, "--input 1x32x32: the embedded synthetic dataset makes square colour images")]
    [TestCase(new[] { "--net", "segnet", "--classes", "7" }, "--classes 7: the data has 5 classes")]
    [TestCase(new[] { "--epochs", "many" }, "Cannot parse argument 'many' for option '--epochs'")]
    [TestCase(new[] { "--checkpoint-every", "-5" }, "--checkpoint-every -5: must be 0 or more")]
    [TestCase(new[] { "--net", "segnet", "--scale", "64" }, "--scale 64: only the VGG nets' augmentation has a training scale, not segnet's")]
    [TestCase(new[] { "--net", "vgg11", "--input", "3x32x32", "--scale", "40:x" }, "--scale 40:x: expected S or MIN:MAX in pixels")]
    [TestCase(new[] { "--net", "vgg11", "--input", "3x32x32", "--scale", "30:60" }, "--scale 30:60: needs 32 <= MIN <= MAX")]
    [TestCase(new[] { "--net", "vgg11", "--input", "3x32x32", "--scale", "60:40" }, "--scale 60:40: needs 32 <= MIN <= MAX")]
    public void Bad_input_gives_one_error_line_and_exit_code_2(string[] args, string message)
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run(["train", "--out", dir["run"], .. args]);
        Assert.That(code, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: " + message));
        Assert.That(File.Exists(dir["run/checkpoint.json"]), Is.False);
    }

    [Test]
    public void Resume_without_a_checkpoint_is_a_usage_error()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run(["train", .. Tiny, "--out", dir.Path, "--resume"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Is.EqualTo($"error: --resume: {dir.Path} holds no checkpoint (checkpoint.json)"));
    }

    [Test]
    public void Asking_for_a_gpu_on_a_machine_without_one_is_one_clear_line_and_a_nonzero_exit()
    {
        try
        {
            using var gpu = Engine.Cuda.CudaBackend.Create(0);
            Assert.Ignore("a usable GPU is present; this test covers machines without one");
        }
        catch (Engine.Cuda.CudaUnavailableException) { }
        using var dir = new TempDir();
        var (code, _, stderr) = Run(["train", .. Tiny, "--out", dir["run"], "--gpu", "0"]);
        Assert.That(code, Is.Not.Zero);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: GPU 0 is not usable: ").And.EndWith("run on the CPU with --device cpu"));
    }

    [Test]
    public void Train_then_eval_and_predict_the_run()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, stdout, stderr) = Run(["train", .. Tiny, "--out", run]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("quick CPU run").And.Contain("Adam").And.Contain("epoch 2:"));
        Assert.That(stderr, Does.Contain("loss").And.Contain("img/s").And.Contain("ETA"), "progress lines on stderr");
        foreach (var f in new[] { "weights.safetensors", "metrics.csv", "steps.csv", "curves.svg", "train.log", "checkpoint.json", "predictions/val-0.png" })
            Assert.That(File.Exists(Path.Combine(run, f)), f);

        (code, stdout, stderr) = Run("eval", "--weights", run);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Match(@"pixel accuracy \d+\.\d+ %, mIoU \d+\.\d+ %"));
        // eval on the run's validation split repeats the last epoch's validation accuracy
        var last = File.ReadAllLines(Path.Combine(run, "metrics.csv"))[^1].Split(',');
        var accuracy = double.Parse(last[6], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(stdout, Does.Contain((accuracy * 100).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + " %"));

        var image = Path.Combine(run, "predictions", "val-0.png");
        var logits = dir["logits.npy"];
        (code, stdout, stderr) = Run("predict", "--weights", Path.Combine(run, "weights.safetensors"), image, "--out", dir["masks"], "--save-logits", logits);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.Exists(dir["masks/val-0.mask.png"]), stdout);
        var shape = SystemPython.Run("import numpy as np, sys; print(np.load(sys.argv[1]).shape)", logits).Trim();
        Assert.That(shape, Is.EqualTo("(1, 5, 32, 32)"));
    }

    [Test]
    public void Eval_and_predict_report_bad_input_on_one_line()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run("eval", "--weights", dir["none.safetensors"]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, $"error: --weights {dir["none.safetensors"]}: no such file or folder")));
        File.WriteAllText(dir["w.safetensors"], "not a safetensors file");
        (code, _, stderr) = Run("eval", "--weights", dir["w.safetensors"]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, $"error: --net is needed: {dir["w.safetensors"]} is not inside a run folder that names its net")));
        (code, _, stderr) = Run("eval", "--weights", dir["w.safetensors"], "--net", "segnet");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Does.StartWith($"error: {dir["w.safetensors"]}: not a safetensors file"));
        (code, _, stderr) = Run("predict", "--weights", dir["w.safetensors"], "--net", "segnet", dir["nothing-here"]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, $"error: INPUT {dir["nothing-here"]}: no such file or folder")));
    }

    [Test]
    public void A_stopped_run_resumed_from_the_command_line_repeats_the_uninterrupted_steps()
    {
        using var dir = new TempDir();
        Assert.That(Run(["train", .. Tiny, "--out", dir["whole"]]).Code, Is.Zero);
        var (code, stdout, _) = Run(["train", .. Tiny, "--out", dir["parts"], "--max-steps", "7"]);
        Assert.That(code, Is.Zero, "reaching --max-steps is the requested result");
        Assert.That(stdout, Does.Contain("continue with --resume"));
        (code, stdout, var stderr) = Run(["train", "--out", dir["parts"], "--resume"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("resuming"));
        Assert.That(File.ReadAllText(dir["parts/steps.csv"]), Is.EqualTo(File.ReadAllText(dir["whole/steps.csv"])));
    }

    [Test]
    public void An_update_that_goes_non_finite_is_one_line_exit_1_and_writes_no_weights()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, _, stderr) = Run(["train", .. TinyWith("--epochs", "1"), "--out", run, "--lr", "1e300", "--checkpoint-every", "1"]);
        Assert.That(code, Is.EqualTo(1), stderr);
        var errors = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();
        Assert.That(errors, Has.Length.EqualTo(1), stderr);
        Assert.That(errors[0], Does.Match(@"^error: the (weights became non-finite in the update of step 1|loss became NaN at step \d+ .*); first non-finite: layer '[^']+' \(").And.EndWith("try a lower --lr"));
        Assert.That(stderr, Does.Not.Contain("   at "));
        Assert.That(File.Exists(Path.Combine(run, "weights.safetensors")), Is.False);
        Assert.That(File.Exists(Path.Combine(run, "checkpoint.json")), Is.False, "no checkpoint of non-finite weights");
    }

    /// <summary>The real program killed with SIGKILL in the middle of training, then resumed.</summary>
    [Test]
    public void A_run_killed_with_sigkill_resumes_to_the_same_steps()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "host.dll");
        if (!File.Exists(dll)) Assert.Ignore($"host.dll not beside the tests ({dll})");
        using var dir = new TempDir();
        string[] args = [.. Tiny, "--checkpoint-every", "1"];
        Assert.That(Run(["train", .. args, "--out", dir["whole"]]).Code, Is.Zero);
        int total = File.ReadAllLines(dir["whole/steps.csv"]).Length - 1;

        var child = Start(dll, ["train", .. args, "--out", dir["killed"]]);
        var steps = dir["killed/steps.csv"];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!child.HasExited && DateTime.UtcNow < deadline && (!File.Exists(steps) || Lines(steps) < 4)) Thread.Sleep(5);
        Assert.That(child.HasExited, Is.False, "the child finished before it could be killed");
        child.Kill();  // SIGKILL: no handler runs, the process stops wherever it is
        child.WaitForExit();
        int done = Lines(steps);
        Assert.That(done, Is.LessThan(total), "killed before the end");

        var (code, _, stderr) = Run("train", "--out", dir["killed"], "--resume");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.ReadAllText(steps), Is.EqualTo(File.ReadAllText(dir["whole/steps.csv"])));
    }

    [Test]
    public void A_classification_run_reports_top1_and_top5_and_predicts_named_classes()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, stdout, stderr) = Run("train", "--net", "vovnet57", "--width", "0.0625", "--examples", "32", "--batch", "16", "--epochs", "1", "--out", run);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Match(@"epoch 1: .* top-1 error \d+\.\d+ % top-5 error \d+\.\d+ %"));
        (code, stdout, stderr) = Run("eval", "--weights", run);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Match(@"top-1 error \d+\.\d+ % \(accuracy \d+\.\d+ %\), top-5 error \d+\.\d+ %"));

        var image = dir["shape.png"];
        var sample = new Engine.Data.Datasets.SyntheticShapesDataset(1, 32).Load(0, new Engine.Tensors.Rng(1), augment: false);
        var rgb = new byte[32 * 32 * 3];
        for (int p = 0; p < 32 * 32; p++)
            for (int c = 0; c < 3; c++) rgb[p * 3 + c] = (byte)Math.Clamp(sample.Image[c * 32 * 32 + p] * 255, 0, 255);
        Engine.Training.Reports.PngWriter.WriteRgb(image, 32, 32, rgb);
        (code, stdout, stderr) = Run("predict", "--weights", run, image, "--top", "3");
        Assert.That(code, Is.Zero, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo(image + ":"));
        Assert.That(lines.Skip(1).ToArray(), Has.Length.EqualTo(3));
        Assert.That(lines[1], Does.Match(@"^  1\. (circle|square|triangle|ring|cross|frame|horizontal|vertical|diagonal|checkerboard)\S*\s+\d+\.\d+ %$"));

        // Several inputs at once: each readable one is classified, an unreadable one is named and makes the exit 1.
        File.WriteAllText(dir["broken.jpg"], "not an image");
        (code, stdout, stderr) = Run("predict", "--weights", run, image, dir["broken.jpg"], image, "--top", "1");
        Assert.That(code, Is.EqualTo(1), stderr);
        Assert.That(stdout.Split('\n').Count(l => l == image + ":"), Is.EqualTo(2), stdout);
        Assert.That(stderr, Does.StartWith(dir["broken.jpg"] + ": cannot read (not a JPEG or PNG image"));
    }

    [Test]
    public void A_vgg_run_trains_through_planted_bad_files_naming_each_and_reads_gray_and_cmyk_jpegs()
    {
        using var dir = new TempDir();
        var data = dir["data"];
        for (int c = 0; c < 3; c++)
        {
            Directory.CreateDirectory(Path.Combine(data, $"class{c}"));
            for (int i = 0; i < (c == 2 ? 10 : 8); i++)
                File.WriteAllBytes(Path.Combine(data, $"class{c}", $"{i}.jpg"), Engine.Tests.Data.TestImages.GradientJpeg(20 + 4 * c + i, 24));
            Directory.CreateDirectory(Path.Combine(dir["val"], $"class{c}"));
            File.WriteAllBytes(Path.Combine(dir["val"], $"class{c}", "0.jpg"), Engine.Tests.Data.TestImages.GradientJpeg(30 + c, 24));
        }
        var good = Engine.Tests.Data.TestImages.GradientJpeg(24, 24);
        var gray = new byte[24 * 24];
        for (int i = 0; i < gray.Length; i++) gray[i] = (byte)(i % 251);
        var cmyk = new byte[24 * 24 * 4];
        for (int i = 0; i < cmyk.Length; i++) cmyk[i] = (byte)(i * 7 % 256);
        var planted = new Dictionary<string, byte[]>
        {
            ["class0/truncated.jpg"] = good[..(good.Length / 2)],
            ["class0/empty.jpg"] = [],
            ["class1/not-an-image.jpg"] = "plain text"u8.ToArray(),
            ["class1/notes.txt"] = "more text"u8.ToArray(),
        };
        var readable = new Dictionary<string, byte[]>
        {
            ["class2/gray.jpg"] = Engine.Data.Codecs.JpegCodec.Encode(gray, 24, 24, Engine.Data.Codecs.JpegPixels.Gray),
            ["class2/cmyk.jpg"] = Engine.Data.Codecs.JpegCodec.Encode(cmyk, 24, 24, Engine.Data.Codecs.JpegPixels.Cmyk),
        };
        foreach (var (name, bytes) in planted.Concat(readable)) File.WriteAllBytes(Path.Combine(data, name), bytes);

        // 32 files in 4 batches of 8, all of them training data (validation has its own folder):
        // the epoch reads each file once.
        var (code, stdout, stderr) = Run("train", "--net", "vgg11", "--input", "3x32x32", "--classes", "3", "--batch", "8", "--data", data,
            "--val-data", dir["val"], "--device", "cpu", "--epochs", "1", "--width", "0.0625", "--threads", "2", "--out", dir["run"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("4 unreadable example(s) were skipped"));
        var log = File.ReadAllText(dir["run/train.log"]);
        foreach (var name in planted.Keys)
            Assert.That(log, Does.Contain($"skipping unreadable example {Path.Combine(data, name)}: "), name);
        foreach (var name in readable.Keys)
            Assert.That(log, Does.Not.Contain(Path.Combine(data, name)), name);
    }

    [Test]
    public void Vgg_evaluates_densely_with_mirror_averaging()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, _, stderr) = Run("train", "--net", "vgg11", "--width", "0.0625", "--examples", "32", "--batch", "16", "--epochs", "1", "--out", run);
        Assert.That(code, Is.Zero, stderr);
        (code, _, stderr) = Run("eval", "--weights", run);
        Assert.That(code, Is.Zero, stderr);
        (code, var dense, stderr) = Run("eval", "--weights", run, "--dense-eval");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(dense, Does.Contain("dense evaluation, scores averaged with the mirror image").And.Match(@"top-1 error \d+\.\d+ %"));
        (code, _, stderr) = Run("train", "--net", "vgg11", "--dense-eval", "--out", dir["other"]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, "error: --dense-eval is a way of evaluating (host eval / predict); training uses the FC form")));
    }

    /// <summary>Ctrl-C (SIGINT) to the real program: it finishes the step, writes a checkpoint and exits with 130.</summary>
    [Test]
    public void Sigint_writes_a_checkpoint_and_exits_cleanly()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "host.dll");
        if (!File.Exists(dll)) Assert.Ignore($"host.dll not beside the tests ({dll})");
        if (!File.Exists("/bin/kill")) Assert.Ignore("/bin/kill is not available to send SIGINT");
        if (SigintIgnored())
            Assert.Ignore("SIGINT is ignored in this process (e.g. started with & from a non-interactive shell); the child inherits that, as it should");
        using var dir = new TempDir();
        var (child, output) = StartCapturing(dll, ["train", .. TinyWith("--epochs", "50"), "--out", dir["run"], "--checkpoint-every", "0"]);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!child.HasExited && DateTime.UtcNow < deadline && !output.ToString().Contains("img/s")) Thread.Sleep(10);
        Assert.That(child.HasExited, Is.False, output.ToString());
        using (var kill = Process.Start("/bin/kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.That(child.WaitForExit(60_000), Is.True, "the program ends after SIGINT");
        Assert.That(child.ExitCode, Is.EqualTo(130), output.ToString());
        Assert.That(output.ToString(), Does.Contain("Ctrl-C: stopping after this step").And.Contain("continue with --resume"));
        var state = Engine.Training.Checkpoints.Checkpoint.ReadState(dir["run"]);
        Assert.That(state.Step, Is.GreaterThan(0));
        Assert.That(File.ReadAllLines(dir["run/steps.csv"]), Has.Length.EqualTo(state.Step + 1), "steps.csv holds exactly the checkpointed steps");
    }

    /// <summary>Whether SIGINT's disposition here is "ignore" (bit 2 of SigIgn in /proc/self/status), which children inherit.</summary>
    private static bool SigintIgnored()
    {
        var line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) : null;
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 2) != 0;
    }

    private static (Process, System.Text.StringBuilder) StartCapturing(string dll, string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p ? p : "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var output = new System.Text.StringBuilder();
        var proc = Process.Start(psi)!;
        proc.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        proc.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        proc.BeginOutputReadLine();
        proc.BeginErrorReadLine();
        return (proc, output);
    }

    private static int Lines(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var r = new StreamReader(f);
        return r.ReadToEnd().Count(c => c == '\n') - 1;
    }

    private static Process Start(string dll, string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p ? p : "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var proc = Process.Start(psi)!;
        proc.OutputDataReceived += (_, _) => { };
        proc.ErrorDataReceived += (_, _) => { };
        proc.BeginOutputReadLine();
        proc.BeginErrorReadLine();
        return proc;
    }
}
