using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Nhwc;

/// <summary>
/// A training step of vgg11, segnet and vovnet57 (small widths and inputs) in NHWC gives NCHW's
/// loss, parameter gradients, input gradient and running statistics, with the planned executor
/// (in place, recomputation, shared storage; NHWC concatenations copy instead of viewing) and
/// with everything kept; and a small NHWC net's gradients match central differences in float64.
/// </summary>
public class NhwcNetParityTests
{
    private const int Batch = 2;

    private static NetOptions Tiny(string name) => NetRegistry.Find(name).Segmentation
        ? new NetOptions { Width = 1.0 / 8, Input = new Shape(3, 32, 32), Classes = 5, IgnoreLabel = 255 }
        : new NetOptions { Width = 1.0 / 16, Input = name.StartsWith("vovnet") ? new Shape(3, 48, 64) : new Shape(3, 32, 32), Classes = 4 };

    private static int[] Labels(long count, NetOptions o) =>
        Enumerable.Range(0, (int)count).Select(i => i % 7 == 0 && o.IgnoreLabel >= 0 ? o.IgnoreLabel : i % o.Classes!.Value).ToArray();

    private static LayoutRun.Result Step(string name, bool float64, Layout layout, ExecutorOptions options, NetOptions? netOptions = null)
    {
        var o = netOptions ?? Tiny(name);
        var g = NetRegistry.Build(name, o);
        using var backend = LayoutRun.Cpu(float64, layout);
        return LayoutRun.Run(g, backend, Batch, options, ints: (_, count) => Labels(count, o));
    }

    private static readonly ExecutorOptions KeepAll = new() { KeepAll = true, InputGradients = true };
    private static readonly ExecutorOptions Planned = new();

    [TestCase("vgg11")]
    [TestCase("segnet")]
    [TestCase("vovnet57")]
    [TestCase("vovnet57-seg")]
    public void A_training_step_in_nhwc_equals_nchw_in_float64(string name)
    {
        var nchw = Step(name, true, Layout.Nchw, KeepAll);
        var nhwc = Step(name, true, Layout.Nhwc, KeepAll);
        TestContext.Out.WriteLine($"{name}: loss nchw {nchw.Tensors["loss"][0]:R}, nhwc {nhwc.Tensors["loss"][0]:R}");
        LayoutRun.AssertClose(nchw, nhwc, 1e-9, name);
    }

    [TestCase("vgg11")]
    [TestCase("segnet")]
    [TestCase("vovnet57")]
    public void A_training_step_in_nhwc_equals_nchw_in_float32(string name)
    {
        var nchw = Step(name, false, Layout.Nchw, KeepAll);
        var nhwc = Step(name, false, Layout.Nhwc, KeepAll);
        TestContext.Out.WriteLine($"{name}: loss nchw {nchw.Tensors["loss"][0]:R}, nhwc {nhwc.Tensors["loss"][0]:R}");
        // Float32 rounding in other orders of addition (GEMMs, batch statistics), amplified through up to 57
        // batch-normalised layers at initialisation (PRECISION.md on their conditioning): measured 2.1e-3 of
        // the scale on one vovnet57 weight gradient, loss 1.2e-5 relative. The float64 test shows the formulas agree to 1e-9.
        LayoutRun.AssertClose(nchw, nhwc, 5e-3, name);
        Assert.That(Math.Abs(nhwc.Tensors["loss"][0] - nchw.Tensors["loss"][0]), Is.LessThan(1e-4 * Math.Abs(nchw.Tensors["loss"][0])));
    }

    /// <summary>The planned NHWC executor (in place, recomputed BN + activation, shared storage) computes what keeping everything does, bit for bit, and NCHW's within float64 rounding.</summary>
    [TestCase("vgg11")]
    [TestCase("segnet")]
    [TestCase("vovnet57")]
    public void The_planned_nhwc_executor_equals_keep_everything_and_nchw(string name)
    {
        var kept = Step(name, true, Layout.Nhwc, KeepAll with { InputGradients = false });
        var planned = Step(name, true, Layout.Nhwc, Planned);
        LayoutRun.AssertClose(kept, planned, 0, name + " planned vs kept");
        var nchwPlanned = Step(name, true, Layout.Nchw, Planned);
        LayoutRun.AssertClose(nchwPlanned, planned, 1e-9, name + " nhwc vs nchw, both planned");
    }

    /// <summary>vovnet57 with group norm in NHWC (the GN path) against NCHW.</summary>
    [Test]
    public void Vovnet57_with_group_norm_in_nhwc_equals_nchw()
    {
        var o = Tiny("vovnet57") with { Norm = Norm.Group };
        var nchw = Step("vovnet57", true, Layout.Nchw, KeepAll, o);
        var nhwc = Step("vovnet57", true, Layout.Nhwc, KeepAll, o);
        LayoutRun.AssertClose(nchw, nhwc, 1e-9, "vovnet57 gn");
    }

    /// <summary>In NHWC no concatenation input is a view (its channels are interleaved per pixel); in NCHW vovnet's are.</summary>
    [Test]
    public void Nhwc_plans_no_concatenation_views()
    {
        var g = NetRegistry.Build("vovnet57", Tiny("vovnet57"));
        using var nchw = new Executor(g, new CpuBackend<float>(), Batch, new ExecutorOptions());
        using var nhwc = new Executor(g, new CpuBackend<float>(Layout.Nhwc), Batch, new ExecutorOptions());
        var values = g.Nodes.SelectMany(n => n.Outputs).ToList();
        Assert.That(values.Count(v => nchw.Plan.View(v) is not null), Is.GreaterThan(0));
        Assert.That(values.Count(v => nhwc.Plan.View(v) is not null), Is.Zero);
    }

    /// <summary>
    /// Emulated bf16 composes with NHWC: every stored activation and activation gradient of an NHWC
    /// bf16 step is a bf16 value (read in the stored order), and its loss is near NCHW bf16's and fp32's
    /// (64x64, batch 8, as PRECISION.md's test). Measured: segnet NHWC bf16 = NCHW bf16 to the last bit
    /// (1.8833081), fp32 1.8835254; vovnet57 NHWC bf16 1.4878, NCHW bf16 1.4493, fp32 1.4585: the 57-layer
    /// net at initialisation moves by percents under bf16's rounding in either layout (PRECISION.md).
    /// </summary>
    [TestCase("segnet", 1e-3)]
    [TestCase("vovnet57", 0.03)]
    public void An_nhwc_bf16_step_stores_bf16_values_and_its_loss_is_near_fp32(string name, double tolerance)
    {
        // At batch 2 and 48x64 vovnet57's bf16 loss is 21 % off fp32's in either layout (batch norm over few values); PRECISION.md's sizes.
        var o = Tiny(name) with { Input = new Shape(3, 64, 64) };
        var g = NetRegistry.Build(name, o);
        const int batch = 8;
        double Loss(Backend backend, bool check)
        {
            using var exec = new Executor(g, backend, batch, new ExecutorOptions { KeepAll = true });
            exec.Parameters.Initialize(3);
            var rng = new Rng(5);
            exec.SetInput("image", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("image")).Numel).Select(_ => rng.NextNormal()).ToArray());
            exec.SetInput("label", Labels(exec.ShapeOf(g.Input("label")).Numel, o));
            exec.Parameters.ZeroGrads();
            exec.Forward(training: true);
            exec.Backward();
            if (check)
                foreach (var v in g.Nodes.SelectMany(n => n.Outputs).Where(v => v.IsFloat && v != g.Loss))
                {
                    Assert.That(exec.ReadStored(v).Count(d => !Bf16.IsRepresentable((float)d)), Is.Zero, v.Name);
                    if (exec.Plan.HasGradient(v))
                        Assert.That(exec.ReadStored(v, gradient: true).Count(d => !Bf16.IsRepresentable((float)d)), Is.Zero, v.Name + "'s gradient");
                }
            return exec.Read(g.Loss!)[0];
        }
        using var bf16 = new CpuBackend<float>(emulateBf16: true, Layout.Nhwc);
        using var fp32 = new CpuBackend<float>(Layout.Nhwc);
        Assert.That(bf16.Layout, Is.EqualTo(Layout.Nhwc));
        double emulated = Loss(bf16, check: true), reference = Loss(fp32, check: false);
        using var nchwBf16 = new CpuBackend<float>(emulateBf16: true);
        double nchw = Loss(nchwBf16, check: false);
        TestContext.Out.WriteLine($"{name} nhwc: loss fp32 {reference:R}, bf16 {emulated:R}; nchw bf16 {nchw:R}");
        Assert.That(Math.Abs(emulated - reference), Is.LessThan(tolerance * Math.Abs(reference)));
        Assert.That(Math.Abs(emulated - nchw), Is.LessThan(tolerance * Math.Abs(nchw)));
        Assert.That(emulated, Is.Not.EqualTo(reference), "bf16 rounding happened at all");
    }

    /// <summary>Central differences on a tiny NHWC vovnet57 and segnet in float64 (the checker reads and writes NCHW order; the executor stores NHWC).</summary>
    [TestCase("vovnet57")]
    [TestCase("segnet")]
    public void A_tiny_nhwc_net_gradients_match_central_differences(string name)
    {
        var o = Tiny(name);
        var g = NetRegistry.Build(name, o);
        var labels = Labels(g.Input("label").Shape.WithBatch(Batch).Numel, o);
        var views = g.Parameters.Views.Select(v => v.Name).ToList();
        var sample = views.Where((_, i) => i % 5 == 0).ToHashSet();
        var report = new GradientChecker { SamplesPerTensor = 1, Threshold = 1e-6, Layout = Layout.Nhwc, Include = n => n == "image" || sample.Contains(n) }
            .Check(g, Batch, g.Output("logits"), exec => exec.SetInput("label", labels));
        TestContext.Out.WriteLine(report.ToString());
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(sample.Count + 1));
        Assert.That(report.SkippedAsKinks, Is.LessThanOrEqualTo(report.Checked / 8), report.ToString());
    }
}
