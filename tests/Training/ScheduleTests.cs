using Engine.Training.Schedules;

namespace Engine.Tests.Training;

public class ScheduleTests
{
    [Test]
    public void Triangular2_peaks_halve_every_cycle()
    {
        // The seed: base 1e-4, max 0.1, half cycle 10 epochs of 775,983 // 64 iterations.
        long half = 775_983 / 64 * 10;
        Assert.That(half, Is.EqualTo(121_240));
        var s = new CyclicalSchedule(1e-4, 0.1, half, CyclePolicy.Triangular2);
        Assert.That(s.Rate(0), Is.EqualTo(1e-4).Within(1e-15));
        // Peaks at half * (2k - 1): base + (max - base) / 2^(k-1).
        double[] peaks = [0.1, 0.05005, 0.025075, 0.0125875, 0.00634375];
        for (int k = 1; k <= 5; k++)
            Assert.That(s.Rate(half * (2 * k - 1)), Is.EqualTo(peaks[k - 1]).Within(1e-12), $"peak {k}");
        // Troughs at the cycle ends, and halfway up the first rise.
        Assert.That(s.Rate(2 * half), Is.EqualTo(1e-4).Within(1e-15));
        Assert.That(s.Rate(half / 2), Is.EqualTo(1e-4 + (0.1 - 1e-4) / 2).Within(1e-12));
        // No rate exceeds the cycle's peak.
        for (long it = 2 * half; it < 4 * half; it += 997) Assert.That(s.Rate(it), Is.LessThanOrEqualTo(0.05005 + 1e-12));
    }

    [Test]
    public void Triangular_keeps_its_amplitude_and_exp_range_decays()
    {
        var tri = new CyclicalSchedule(0.001, 0.006, 2000, CyclePolicy.Triangular);
        Assert.That(tri.Rate(2000), Is.EqualTo(0.006).Within(1e-15));
        Assert.That(tri.Rate(6000), Is.EqualTo(0.006).Within(1e-15));
        Assert.That(tri.Rate(1000), Is.EqualTo(0.0035).Within(1e-15));
        var exp = new CyclicalSchedule(0.001, 0.006, 2000, CyclePolicy.ExpRange, gamma: 0.9999);
        Assert.That(exp.Rate(2000), Is.EqualTo(0.001 + 0.005 * Math.Pow(0.9999, 2000)).Within(1e-15));
        Assert.That(exp.Rate(6000), Is.EqualTo(0.001 + 0.005 * Math.Pow(0.9999, 6000)).Within(1e-15));
    }

    [Test]
    public void Plateau_divides_by_ten_when_accuracy_stops_improving_at_most_three_times()
    {
        var s = new PlateauSchedule(0.01, factor: 0.1, patience: 0, maxDrops: 3);
        Assert.That(s.EndOfEpoch(0, 0.5), Is.Null);
        Assert.That(s.EndOfEpoch(1, 0.6), Is.Null);
        Assert.That(s.Rate(100), Is.EqualTo(0.01));
        Assert.That(s.EndOfEpoch(2, 0.6), Does.Contain("divided by 10"));
        Assert.That(s.Rate(100), Is.EqualTo(0.001).Within(1e-15));
        Assert.That(s.EndOfEpoch(3, 0.7), Is.Null);
        Assert.That(s.Rate(100), Is.EqualTo(0.001).Within(1e-15));
        s.EndOfEpoch(4, 0.65);
        s.EndOfEpoch(5, 0.65);
        Assert.That(s.Drops, Is.EqualTo(3));
        Assert.That(s.Rate(0), Is.EqualTo(1e-5).Within(1e-18));
        Assert.That(s.EndOfEpoch(6, 0.1), Is.Null, "no fourth drop");
        Assert.That(s.Rate(0), Is.EqualTo(1e-5).Within(1e-18));
    }

    [Test]
    public void Plateau_patience_waits_and_state_survives_a_checkpoint()
    {
        var s = new PlateauSchedule(0.1, patience: 2);
        s.EndOfEpoch(0, 0.5);
        s.EndOfEpoch(1, 0.4);
        s.EndOfEpoch(2, 0.45);
        Assert.That(s.Drops, Is.EqualTo(0));
        var restored = new PlateauSchedule(0.1, patience: 2);
        restored.RestoreState(s.SaveState());
        Assert.That(restored.EndOfEpoch(3, 0.49), Is.Not.Null);
        Assert.That(restored.Rate(0), Is.EqualTo(0.01).Within(1e-15));
    }

    [Test]
    public void Warmup_rises_linearly_then_divides_by_ten_at_the_milestones()
    {
        var s = new WarmupStepSchedule(0.02, warmupIterations: 1000, warmupFactor: 1.0 / 3, milestones: [60_000, 80_000]);
        Assert.That(s.Rate(0), Is.EqualTo(0.02 / 3).Within(1e-15));
        Assert.That(s.Rate(500), Is.EqualTo(0.02 * (1.0 / 3 * 0.5 + 0.5)).Within(1e-15));
        Assert.That(s.Rate(1000), Is.EqualTo(0.02));
        Assert.That(s.Rate(59_999), Is.EqualTo(0.02));
        Assert.That(s.Rate(60_000), Is.EqualTo(0.002).Within(1e-15));
        Assert.That(s.Rate(80_000), Is.EqualTo(0.0002).Within(1e-16));
    }

    [Test]
    public void Spec_text_resolves_against_the_run_length()
    {
        var ctx = new ScheduleContext(0.1, IterationsPerEpoch: 100, TotalIterations: 10_000);
        var clr = (CyclicalSchedule)ScheduleSpec.Parse("triangular2", ctx);
        Assert.That((clr.BaseRate, clr.MaxRate, clr.HalfCycle), Is.EqualTo((1e-4, 0.1, 1000L)));
        clr = (CyclicalSchedule)ScheduleSpec.Parse("triangular:min=0.01,half=2.5", ctx);
        Assert.That((clr.BaseRate, clr.HalfCycle, clr.Policy), Is.EqualTo((0.01, 250L, CyclePolicy.Triangular)));
        var w = (WarmupStepSchedule)ScheduleSpec.Parse("warmup:iters=50,at=0.5/9000", ctx);
        Assert.That(w.Milestones, Is.EqualTo(new long[] { 5000, 9000 }));
        Assert.That(ScheduleSpec.Parse("plateau:patience=3", ctx), Is.TypeOf<PlateauSchedule>());
        Assert.That(ScheduleSpec.Parse("constant", ctx).Rate(77), Is.EqualTo(0.1));
    }

    [Test]
    public void Milestones_before_the_end_keep_their_distance_when_the_run_is_stretched()
    {
        var oneX = new ScheduleContext(0.02, IterationsPerEpoch: 100, TotalIterations: 1_000);
        var threeX = oneX with { TotalIterations = 3_000 };
        Assert.That(((WarmupStepSchedule)ScheduleSpec.Parse("warmup:iters=50,before-end=200/50", oneX)).Milestones, Is.EqualTo(new long[] { 800, 950 }));
        Assert.That(((WarmupStepSchedule)ScheduleSpec.Parse("warmup:iters=50,before-end=2e/1e", threeX)).Milestones, Is.EqualTo(new long[] { 2_800, 2_900 }));
        Assert.That(() => ScheduleSpec.Parse("warmup:before-end=2000", oneX), Throws.TypeOf<FormatException>().With.Message.Contains("iteration -1000"));
        Assert.That(() => ScheduleSpec.Parse("warmup:at=0.5,before-end=10", oneX), Throws.TypeOf<FormatException>().With.Message.Contains("not both"));
        Assert.That(() => ScheduleSpec.Parse("warmup:before-end=xe", oneX), Throws.TypeOf<FormatException>().With.Message.Contains("'xe'"));
    }

    [TestCase("cosine", "unknown schedule 'cosine'")]
    [TestCase("triangular2:min=abc", "min=abc")]
    [TestCase("plateau:colour=red", "no option 'colour'")]
    [TestCase("triangular:min=1,max=0.1", "above max")]
    [TestCase("warmup:at=-3", "milestone '-3'")]
    public void Spec_errors_name_the_problem(string text, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => ScheduleSpec.Parse(text, new ScheduleContext(0.1, 10, 100)));
        Assert.That(ex!.Message, Does.Contain(expected));
    }
}
