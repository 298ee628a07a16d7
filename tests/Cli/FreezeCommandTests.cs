using System.Globalization;
using Engine.Tests.Training.Support;
using Engine.Weights;
using Host;

namespace Engine.Tests.Cli;

/// <summary>`host train --freeze backbone` and `host info --freeze backbone`: stored in the run, kept and checked by --resume, refused where a net has no backbone.</summary>
public class FreezeCommandTests
{
    private static readonly string[] Seg = ["--net", "vovnet57-seg", "--width", "0.0625", "--input", "3x32x32", "--examples", "8", "--batch", "2", "--epochs", "2", "--threads", "2"];

    private static (int Code, string Out, string Err) Train(params string[] args) => TrainCommandTests.Run(["train", .. args]);

    [Test]
    public void A_frozen_run_stopped_and_resumed_repeats_the_uninterrupted_run_bitwise_and_keeps_its_setting()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Train([.. Seg, "--freeze", "backbone", "--out", dir["whole"]]);
        Assert.That(code, Is.Zero, stderr);
        var log = File.ReadAllText(dir["whole/train.log"]);
        Assert.That(log, Does.Contain("frozen backbone:").And.Contain("warning: the backbone is frozen at its random initialisation (no --init-from)"));

        Assert.That(Train([.. Seg, "--freeze", "backbone", "--out", dir["parts"], "--max-steps", "3"]).Code, Is.Zero);
        var optimizerFile = Directory.GetFiles(dir["parts/checkpoints"], "*.optimizer.safetensors").Single();
        var names = SafeTensors.Read(optimizerFile).Tensors.Select(t => t.Name).ToList();
        Assert.That(names, Is.Not.Empty);
        Assert.That(names.Where(n => n.Contains(".stem.") || n.Contains(".stage")), Is.Empty, "no optimizer state for the backbone");

        var (refused, _, err) = Train("--out", dir["parts"], "--resume", "--freeze", "none");
        Assert.That(refused, Is.EqualTo(2));
        Assert.That(err.Trim(), Does.StartWith($"error: --freeze none: {dir["parts"]} was trained with --freeze backbone, which a resumed run keeps"));

        (code, var stdout, stderr) = Train("--out", dir["parts"], "--resume");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("resuming"));
        Assert.That(File.ReadAllText(dir["parts/steps.csv"]), Is.EqualTo(File.ReadAllText(dir["whole/steps.csv"])));
        Assert.That(File.ReadAllBytes(dir["parts/weights.safetensors"]), Is.EqualTo(File.ReadAllBytes(dir["whole/weights.safetensors"])));
    }

    [Test]
    public void A_vovnet57_run_initialises_the_frozen_backbone_which_then_stays_as_loaded()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Train("--net", "vovnet57", "--width", "0.0625", "--input", "3x32x32", "--examples", "8", "--batch", "4", "--epochs", "1", "--threads", "2", "--out", dir["cls"]);
        Assert.That(code, Is.Zero, stderr);
        var init = dir["cls/weights.safetensors"];
        (code, _, stderr) = Train([.. Seg, "--freeze", "backbone", "--init-from", init, "--max-steps", "2", "--out", dir["seg"]]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.ReadAllText(dir["seg/train.log"]), Does.Contain("frozen backbone:").And.Not.Contain("warning: the backbone is frozen"));

        var loaded = SafeTensors.Read(init).Tensors.ToDictionary(t => t.Name);
        var after = SafeTensors.Read(Directory.GetFiles(dir["seg/checkpoints"], "step-*.safetensors").Single(f => !f.Contains(".optimizer."))).Tensors;
        var backbone = after.Where(t => t.Name.StartsWith("stem.") || t.Name.StartsWith("stage")).ToList();
        Assert.That(backbone, Has.Count.EqualTo(loaded.Keys.Count(n => n.StartsWith("stem.") || n.StartsWith("stage"))).And.Count.GreaterThan(100));
        foreach (var t in backbone) Assert.That(t.Data, Is.EqualTo(loaded[t.Name].Data), $"{t.Name}: as vovnet57 trained it, running statistics included");
    }

    [Test]
    public void A_trainable_run_cannot_be_resumed_frozen()
    {
        using var dir = new TempDir();
        Assert.That(Train([.. Seg, "--out", dir.Path, "--max-steps", "1"]).Code, Is.Zero);
        var (code, _, err) = Train("--out", dir.Path, "--resume", "--freeze", "backbone");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err.Trim(), Does.StartWith($"error: --freeze backbone: {dir.Path} was trained with --freeze none"));
    }

    [TestCase("train")]
    [TestCase("info")]
    public void A_net_without_a_backbone_refuses_it_in_one_line_naming_the_net(string command)
    {
        using var dir = new TempDir();
        var (code, _, err) = command == "train"
            ? Train("--net", "segnet", "--width", "0.125", "--examples", "8", "--batch", "4", "--freeze", "backbone", "--out", dir["run"])
            : CliRunner.Run([InfoCommand.Create()], ["info", "--net", "segnet", "--batch", "2", "--freeze", "backbone"]);
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err.Trim(), Is.EqualTo("error: --freeze backbone: segnet declares no backbone to freeze (the vovnet57 nets and vovnet57-seg do)"));
        Assert.That(File.Exists(dir["run/checkpoint.json"]), Is.False);
    }

    [Test]
    public void A_bad_value_names_the_option() =>
        Assert.That(Train([.. Seg, "--freeze", "head"]).Err.Trim(), Is.EqualTo("error: --freeze 'head': expected backbone or none"));

    [Test]
    public void Host_info_plans_less_memory_for_a_frozen_backbone()
    {
        string[] args = ["info", "--net", "vovnet57-seg", "--input", "3x64x64", "--classes", "5", "--batch", "4"];
        var (code, full, err) = CliRunner.Run([InfoCommand.Create()], args);
        Assert.That(code, Is.Zero, err);
        (code, var frozen, err) = CliRunner.Run([InfoCommand.Create()], [.. args, "--freeze", "backbone"]);
        Assert.That(code, Is.Zero, err);
        Assert.That(frozen, Does.Contain("backbone frozen"));
        foreach (var row in new[] { "gradients", "optimizer state", "activation arena", "total" })
            Assert.That(MiB(frozen, row), Is.LessThan(MiB(full, row)), row);
        Assert.That(MiB(frozen, "parameters"), Is.EqualTo(MiB(full, "parameters")));
    }

    private static double MiB(string table, string row)
    {
        var line = table.Split('\n').Single(l => l.StartsWith("  " + row + " ", StringComparison.Ordinal) && l.Contains("MiB"));
        var text = line[(2 + row.Length)..].TrimStart();
        return double.Parse(text[..text.IndexOf(" MiB", StringComparison.Ordinal)], NumberStyles.Number, CultureInfo.InvariantCulture);
    }
}
