using Engine.Weights;
using System.Diagnostics;
using System.Text;
using Engine.Tests.Training.Support;
using Engine.Training.Checkpoints;

namespace Engine.Tests.Distributed;

/// <summary>
/// `host train` under mpirun on the CPU: N ranks at batch b end where one process at batch N*b
/// ends (only the order of the gradient sums differs), SyncBN over ranks equals batch norm over
/// the whole batch, a resumed run repeats the uninterrupted one bit for bit, and a rank that dies,
/// hangs or disagrees stops every rank with a line naming it.
/// </summary>
[NonParallelizable]
public class DataParallelTrainingTests
{
    private static readonly string[] Vgg = ["train", "--net", "vgg11", "--input", "3x32x32", "--width", "0.0625", "--classes", "10", "--examples", "96",
        "--epochs", "2", "--device", "cpu", "--optimizer", "sgd", "--lr", "0.05", "--checkpoint-every", "0", "--threads", "1", "--schedule", "constant"];

    private static readonly string[] SegNet = ["train", "--net", "segnet", "--width", "0.125", "--examples", "48", "--epochs", "1", "--device", "cpu",
        "--optimizer", "sgd", "--lr", "0.01", "--checkpoint-every", "0", "--threads", "1", "--schedule", "constant"];

    [TestCase(2, "fp64", 1e-10)]
    [TestCase(4, "fp64", 1e-10)]
    [TestCase(2, "fp32", 1e-5)]
    public void Vgg11_on_N_ranks_ends_as_one_process_at_the_global_batch(int ranks, string precision, double tolerance)
    {
        using var dir = new TempDir();
        var one = MpiRun.Alone([.. Vgg, "--batch", "8", "--precision", precision, "--out", dir["one"]]);
        Assert.That(one.Code, Is.Zero, one.Output);
        var many = MpiRun.Ranks(ranks, [.. Vgg, "--batch", (8 / ranks).ToString(), "--precision", precision, "--out", dir["many"]]);
        Assert.That(many.Code, Is.Zero, many.Output);
        Assert.That(many.Output, Does.Contain($"data-parallel: {ranks} ranks x batch {8 / ranks} = global batch 8"));
        AssertSameLosses(dir["one"], dir["many"], tolerance, expectedSteps: 24);
        AssertSameWeights(dir["one"], dir["many"], tolerance);
    }

    /// <summary>SyncBN in one process is batch norm bit for bit (<see cref="SyncBatchNormTests"/>; the nets' --norm bn fuses batch norm with its ReLU, which rounds differently).</summary>
    [Test]
    public void SyncBN_on_two_ranks_of_batch_2_equals_batch_norm_at_batch_4()
    {
        using var dir = new TempDir();
        var one = MpiRun.Alone([.. SegNet, "--batch", "4", "--norm", "syncbn", "--precision", "fp64", "--out", dir["bn"]]);
        Assert.That(one.Code, Is.Zero, one.Output);
        var two = MpiRun.Ranks(2, [.. SegNet, "--batch", "2", "--norm", "syncbn", "--precision", "fp64", "--out", dir["syncbn"]]);
        Assert.That(two.Code, Is.Zero, two.Output);
        AssertSameLosses(dir["bn"], dir["syncbn"], 1e-10, expectedSteps: 12);
        AssertSameWeights(dir["bn"], dir["syncbn"], 1e-10);
    }

    [Test]
    public void A_resumed_two_rank_run_is_bitwise_the_uninterrupted_one()
    {
        using var dir = new TempDir();
        string[] run = [.. With(Vgg, "--checkpoint-every", "5"), "--batch", "4"];
        var whole = MpiRun.Ranks(2, [.. run, "--out", dir["whole"]]);
        Assert.That(whole.Code, Is.Zero, whole.Output);
        var first = MpiRun.Ranks(2, [.. run, "--out", dir["cut"], "--max-steps", "7"]);
        Assert.That(first.Code, Is.Zero, first.Output);
        var rest = MpiRun.Ranks(2, ["train", "--resume", "--out", dir["cut"], "--threads", "1", "--device", "cpu"]);
        Assert.That(rest.Code, Is.Zero, rest.Output);
        Assert.That(File.ReadAllText(dir["cut/steps.csv"]), Is.EqualTo(File.ReadAllText(dir["whole/steps.csv"])));
        Assert.That(File.ReadAllBytes(dir["cut/weights.safetensors"]), Is.EqualTo(File.ReadAllBytes(dir["whole/weights.safetensors"])));
    }

    [Test]
    public void Ranks_that_disagree_on_the_data_are_refused_at_start()
    {
        using var dir = new TempDir();
        var mpirun = MpiRun.Mpirun;
        var dotnet = MpiRun.Dotnet;
        string[] rank0 = [.. Vgg, "--batch", "4", "--out", dir["run"]];
        string[] rank1 = [.. rank0.Select(a => a == "96" ? "104" : a)];
        var (code, output) = MpiRun.Run(mpirun, ["--allow-run-as-root", "--oversubscribe", "-n", "1", dotnet, MpiRun.HostDll, .. rank0, ":", "-n", "1", dotnet, MpiRun.HostDll, .. rank1]);
        Assert.That(code, Is.Not.Zero, output);
        Assert.That(output, Does.Contain("error: rank 1 disagrees with rank 0 on syntheticTrain (this is rank 1: 104)"));
        Assert.That(File.Exists(dir["run/steps.csv"]), Is.False, "nothing trained");
    }

    [TestCase("KILL", "rank 1")]
    [TestCase("STOP", "error: rank 1 did not reach collective")]
    public void A_rank_that_dies_or_hangs_stops_every_rank_within_the_timeout(string signal, string expected)
    {
        using var dir = new TempDir();
        var output = new StringBuilder();
        using var job = MpiRun.Start(MpiRun.Mpirun, MpiRun.Launch(2, [.. With(Vgg, "--epochs", "50"), "--batch", "4", "--collective-timeout", "5", "--out", dir["run"]]), output);
        var clock = Stopwatch.StartNew();
        int? victim = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && !job.HasExited && (victim is null || !File.Exists(dir["run/steps.csv"]) || File.ReadAllLines(dir["run/steps.csv"]).Length < 4))
        {
            victim ??= MpiRun.RankPid(job.Id, 1);
            Thread.Sleep(20);
        }
        Assert.That(job.HasExited, Is.False, output.ToString());
        Assert.That(victim, Is.Not.Null, "rank 1's process was not found");
        using (var kill = Process.Start("/bin/kill", [$"-{signal}", victim!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        var killedAt = clock.Elapsed;
        bool ended = job.WaitForExit(TimeSpan.FromSeconds(30));
        if (!ended) job.Kill(entireProcessTree: true);
        job.WaitForExit();
        Assert.That(ended, Is.True, $"the job still ran 30 s after rank 1 got SIG{signal}:\n{output}");
        Assert.That(clock.Elapsed - killedAt, Is.LessThan(TimeSpan.FromSeconds(5 + 10)), output.ToString());
        Assert.That(job.ExitCode, Is.Not.Zero);
        lock (output) Assert.That(output.ToString(), Does.Contain(expected));
    }

    private static string[] With(string[] args, string option, string value) =>
        [.. args.Select((a, i) => i > 0 && args[i - 1] == option ? value : a)];

    private static void AssertSameLosses(string one, string many, double tolerance, int expectedSteps)
    {
        var a = Losses(one);
        var b = Losses(many);
        Assert.That(a, Has.Length.EqualTo(expectedSteps));
        Assert.That(b, Has.Length.EqualTo(a.Length));
        for (int i = 0; i < a.Length; i++)
            Assert.That(Math.Abs(a[i] - b[i]), Is.LessThanOrEqualTo(tolerance * Math.Abs(a[i])), $"loss of step {i + 1}");
    }

    private static double[] Losses(string run) =>
        [.. File.ReadAllLines(Path.Combine(run, "steps.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>
    /// Every tensor (weights and running statistics) within <paramref name="tolerance"/> of the largest magnitude of its tensor, or of 1e-3 for
    /// tensors that are rounding noise (a conv bias before batch norm has a zero gradient).
    /// </summary>
    private static void AssertSameWeights(string one, string many, double tolerance)
    {
        var a = SafeTensors.Read(Path.Combine(one, "weights.safetensors")).Tensors.ToDictionary(t => t.Name);
        var b = SafeTensors.Read(Path.Combine(many, "weights.safetensors")).Tensors.ToDictionary(t => t.Name);
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        bool anyDifferent = false;
        foreach (var (name, t) in a)
        {
            double scale = Math.Max(t.Data.Max(Math.Abs), 1e-3);
            var other = b[name].Data;
            for (int i = 0; i < t.Data.Length; i++)
            {
                Assert.That(Math.Abs(t.Data[i] - other[i]), Is.LessThanOrEqualTo(tolerance * scale), $"{name}[{i}]");
                anyDifferent |= t.Data[i] != other[i];
            }
        }
        TestContext.Out.WriteLine(anyDifferent ? "weights equal within the tolerance, not bitwise" : "weights bitwise equal");
    }
}
