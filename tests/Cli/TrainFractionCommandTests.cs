using static Engine.Tests.Cli.TrainCommandTests;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Cli;

/// <summary>Seed 004's knobs on the command line: a share of the training set, a multiple of the schedule.</summary>
[NonParallelizable]
public class TrainFractionCommandTests
{
    [Test]
    public void A_run_trains_on_its_share_of_the_data_for_a_multiple_of_its_epochs()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--examples", "8", "--batch", "4", "--epochs", "1",
            "--epochs-multiple", "2", "--train-fraction", "0.5", "--threads", "1", "--out", run);
        Assert.That(code, Is.Zero, stderr);
        var log = File.ReadAllText(Path.Combine(run, "train.log"));
        Assert.That(log, Does.Contain("data: 4 training examples").And.Contain("2 epochs"));

        // Milestones before the end are checked against the run's length once it is known: 2 epochs of 2 steps here.
        (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--examples", "8", "--batch", "4", "--epochs", "2",
            "--schedule", "warmup:iters=0,before-end=1", "--threads", "1", "--out", dir["late-drop"]);
        Assert.That(code, Is.Zero, stderr);
        (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--examples", "8", "--batch", "4", "--epochs", "2",
            "--schedule", "warmup:iters=0,before-end=5", "--threads", "1", "--out", dir["too-early"]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, "error: --schedule: schedule 'warmup': a milestone before the end falls at iteration -1, outside the run's 4 iterations after its 0-iteration warm-up")));

        (code, _, stderr) = Run("train", "--net", "segnet", "--train-fraction", "1.5", "--out", dir["bad"]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, "error: --train-fraction 1.5: must be in (0, 1], e.g. 0.1 for a tenth of the training set")));
        (code, _, stderr) = Run("train", "--net", "segnet", "--epochs-multiple", "0", "--out", dir["bad"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith("error: --epochs-multiple"));
    }
}
