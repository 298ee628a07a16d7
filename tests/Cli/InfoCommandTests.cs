using System.CommandLine;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Host;

namespace Engine.Tests.Cli;

/// <summary>`host info --net ...` run in-process through the host's error handling, and once as the real program.</summary>
[NonParallelizable]
public class InfoCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        return CliRunner.Run([InfoCommand.Create()], ["info", .. args]);
    }

    [Test]
    public void Vovnet57_table_has_a_row_per_layer_and_the_totals()
    {
        var (code, stdout, stderr) = Run("--net", "vovnet57");
        Assert.That(code, Is.Zero, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("vovnet57: input 3x224x224, 1000 classes, norm bn, width x1"));
        Assert.That(lines[1], Does.Match(@"^layer\s+type\s+filters\s+size/stride\s+input\s+output$"));
        Assert.That(lines, Has.Some.Match(@"^stem\.conv1\s+.*3x224x224\s+64x112x112$"));
        Assert.That(lines, Has.Some.Match(@"^stage4\.osa2\.concat\s+.*5 x 192x14x14\s+960x14x14$"));
        Assert.That(lines, Has.Some.Match(@"^head\.fc\s+.*1024x1x1\s+1000$"));
        Assert.That(lines.Single(l => l.Contains("parameters")), Does.Contain("31,430,184"));
        Assert.That(lines.Single(l => l.Contains("multiply-accumulates")), Does.Contain("8,853,073,920"));
    }

    [Test]
    public void Batch_adds_the_memory_plan_with_what_keeping_everything_would_cost()
    {
        var (code, stdout, stderr) = Run("--net", "vovnet57", "--batch", "64");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("memory plan at batch 64, training with SGD with momentum, F32:"));
        double MiB(string row) => double.Parse(Regex.Match(stdout, $@"\n  {row}\s+([\d,.]+) MiB").Groups[1].Value.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(MiB("parameters"), Is.EqualTo(31_430_184 * 4 / 1048576.0).Within(0.05));
        Assert.That(MiB("optimizer state"), Is.EqualTo(MiB("parameters")));
        Assert.That(MiB("total"), Is.EqualTo(MiB("parameters") + MiB("gradients") + MiB("optimizer state") + MiB("running statistics") + MiB("activation arena")).Within(0.3));
        Assert.That(MiB("total"), Is.LessThan(MiB("before planning") / 2));
        Assert.That(stdout, Does.Contain("45 concatenation input(s) written in place"));

        var (evalCode, eval, _) = Run("--net", "vovnet57", "--batch", "64", "--eval");
        Assert.That(evalCode, Is.Zero);
        Assert.That(eval, Does.Contain("evaluation").And.Not.Contain("gradients").And.Not.Contain("optimizer state"));
        var (adamCode, adam, _) = Run("--net", "vovnet57", "--batch", "64", "--optimizer", "adam");
        Assert.That(adamCode, Is.Zero);
        Assert.That(adam, Does.Contain("training with Adam"));
    }

    /// <summary>The parameter count is the PyTorch twin's (tools/reference/nets.py --count vovnet57-seg: 45,078,167).</summary>
    [Test]
    public void Vovnet57_seg_table_at_the_seeds_size_has_the_jpu_the_decoder_and_focal_plus_dice()
    {
        var (code, stdout, stderr) = Run("--net", "vovnet57-seg", "--input", "3x320x480", "--classes", "151");
        Assert.That(code, Is.Zero, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Some.Match(@"^jpu\.context\s+concat\s+.*4 x 512x40x60\s+2048x40x60$"));
        Assert.That(lines, Has.Some.Match(@"^jpu\.dilation8_dw\s+conv\s+1536\s+3x3 d8 g1536\s"));
        Assert.That(lines, Has.Some.Match(@"^decoder\.concat\s+.*384x80x120$"));
        Assert.That(lines, Has.Some.Match(@"^classifier\s+.*320x320x480\s+151x320x480$"));
        Assert.That(lines, Has.Some.Match(@"^focal_loss\s+softmax_focal\s").And.Some.Match(@"^dice_loss\s+softmax_dice\s"));
        Assert.That(lines.Single(l => l.Contains("parameters")), Does.Contain("45,078,167"));
    }

    [Test]
    public void Loss_option_picks_a_segmentation_nets_loss_and_is_refused_elsewhere()
    {
        var (code, stdout, stderr) = Run("--net", "segnet", "--loss", "focal-dice");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("softmax_focal").And.Contain("softmax_dice").And.Not.Contain("softmax_ce"));
        (code, stdout, _) = Run("--net", "vovnet57-seg", "--input", "3x64x64", "--loss", "ce");
        Assert.That(stdout, Does.Contain("softmax_ce").And.Not.Contain("softmax_focal"));
        (code, _, stderr) = Run("--net", "vgg11", "--loss", "ce");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("segmentation nets only"));
        (code, _, stderr) = Run("--net", "segnet", "--loss", "dice");
        Assert.That(stderr, Does.Contain("--loss 'dice': expected ce or focal-dice"));
    }

    [TestCase(new[] { "--net", "vgg11", "--batch", "0" }, "--batch '0': must be a positive integer")]
    [TestCase(new[] { "--net", "vgg11", "--eval" }, "give --batch N too")]
    [TestCase(new[] { "--net", "vgg11", "--batch", "2", "--optimizer", "lbfgs" }, "--optimizer 'lbfgs': expected sgd or adam")]
    public void Bad_plan_options_are_one_line_before_any_table(string[] args, string message)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain(message));
        Assert.That(stdout, Is.Empty, "nothing printed before the error");
    }

    [Test]
    public void Options_change_the_net_described()
    {
        var (code, stdout, _) = Run("--net", "segnet", "--input", "1x32x48", "--classes", "21", "--norm", "gn");
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Match(@"classifier\s+.*32x32x48\s+21x32x48"));
        Assert.That(stdout, Does.Contain("groupnorm").Or.Contain("gn"));
        Assert.That(stdout, Does.Not.Contain("running statistics"));
    }

    [Test]
    public void Without_a_net_it_lists_the_nets_with_descriptions()
    {
        var (code, stdout, _) = Run();
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Contain("--net"));
        Assert.That(stdout, Does.Match(@"vovnet57\s+VoVNet"));
        Assert.That(stdout, Does.Match(@"fcn\s+\S"));
    }

    [TestCase(new[] { "--net", "resnet50" }, "--net 'resnet50': unknown net; known nets: vovnet57, ")]
    [TestCase(new[] { "--net", "vgg16", "--input", "3x20x20" }, "--input 3x20x20 does not fit vgg16: layer block5.pool")]
    [TestCase(new[] { "--net", "vovnet57", "--input", "3x20x20" }, "--input 3x20x20 does not fit vovnet57: input 20x20 is smaller than 32x32")]
    [TestCase(new[] { "--net", "fcn", "--input", "3x60x60" }, "--input 3x60x60 does not fit fcn: input height and width must be multiples of 16")]
    [TestCase(new[] { "--net", "vgg16", "--input", "3x224" }, "--input '3x224': expected CxHxW")]
    [TestCase(new[] { "--net", "vgg16", "--input", "3x224x224x1" }, "--input '3x224x224x1': expected CxHxW")]
    [TestCase(new[] { "--net", "vgg16", "--input", "axb" }, "--input 'axb': 'a' is not a positive integer")]
    [TestCase(new[] { "--net", "vgg16", "--input", "3x0x224" }, "--input '3x0x224': '0' is not a positive integer")]
    [TestCase(new[] { "--net", "vgg16", "--classes", "0" }, "--classes '0': must be a positive integer")]
    [TestCase(new[] { "--net", "vgg16", "--classes=-3" }, "--classes '-3': must be a positive integer")]
    [TestCase(new[] { "--net", "vgg16", "--classes", "ten" }, "--classes 'ten': must be a positive integer")]
    [TestCase(new[] { "--net", "vgg16", "--norm", "ln" }, "--norm 'ln': expected bn, syncbn, gn or none")]
    [TestCase(new[] { "--net", "vgg16", "--width", "0" }, "--width '0': must be a positive number")]
    [TestCase(new[] { "--net", "segnet", "--dense-eval" }, "dense evaluation applies to the vgg nets only")]
    public void Bad_input_gives_one_error_line_and_exit_code_2(string[] args, string message)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("error: " + message));
    }

    /// <summary>The real program, so that the exit code and the absence of a stack trace are what a user sees.</summary>
    [Test]
    public void The_host_program_reports_a_bad_net_on_one_line_with_exit_code_2()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "host.dll");
        if (!File.Exists(dll)) Assert.Ignore($"host.dll not beside the tests ({dll})");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p ? p : "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "info", "--net", "nosuchnet" }) psi.ArgumentList.Add(a);
        using var proc = Process.Start(psi)!;
        var stdout = proc.StandardOutput.ReadToEndAsync();
        var stderr = proc.StandardError.ReadToEnd();
        proc.WaitForExit();
        Assert.That(proc.ExitCode, Is.EqualTo(2), stderr);
        Assert.That(stdout.Result, Is.Empty);
        Assert.That(Regex.Split(stderr.Trim(), "\r?\n"), Is.EqualTo(new[] { $"error: --net 'nosuchnet': unknown net; known nets: {Engine.Nets.NetRegistry.KnownNames}" }));
    }
}
