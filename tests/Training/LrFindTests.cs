using Engine.Training.LrFind;
using Engine.Training.Reports;

namespace Engine.Tests.Training;

/// <summary>The range test's schedule, smoothing, stop rule and suggestion on synthetic loss curves.</summary>
public class LrFindTests
{
    private static readonly LrRangeSchedule Range = new(1e-7, 10, 100);

    /// <summary>Flat at tiny lrs, falling around 1e-3, flat again, then (with <paramref name="explode"/>) rising fast beyond 0.1; a little fixed noise.</summary>
    private static double Valley(double lr, int step, bool explode)
    {
        double x = Math.Log10(lr);
        double fall = 1.5 / (1 + Math.Exp(-2.5 * (x + 3)));
        double rise = explode ? Math.Exp(3 * (x + 1)) - 1 : 0;
        return 2.3 - fall + Math.Max(0, rise) + 0.02 * Math.Sin(step * 1.7);
    }

    private static LrRangeRecorder Record(Func<double, int, double> loss)
    {
        var recorder = new LrRangeRecorder();
        for (int i = 0; i < Range.Steps; i++)
            if (!recorder.Add(Range.Rate(i), loss(Range.Rate(i), i))) break;
        return recorder;
    }

    [Test]
    public void The_lr_rises_exponentially_from_start_to_end()
    {
        var s = new LrRangeSchedule(1e-4, 1, 5);
        Assert.That(Enumerable.Range(0, 5).Select(s.Rate), Is.EqualTo(new[] { 1e-4, 1e-3, 1e-2, 1e-1, 1 }).Within(1e-12));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LrRangeSchedule(1, 0.1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LrRangeSchedule(1e-7, 10, 1));
    }

    [Test]
    public void The_smoothed_loss_is_debiased()
    {
        var s = new LossSmoother();
        Assert.That(Enumerable.Range(0, 5).Select(_ => s.Add(3)), Is.All.EqualTo(3).Within(1e-12));
        var t = new LossSmoother(0.5);
        t.Add(2);
        Assert.That(t.Add(4), Is.EqualTo((0.5 * 0.5 * 2 + 0.5 * 4) / 0.75).Within(1e-12));
    }

    [Test]
    public void The_suggestion_lies_where_the_loss_falls_and_divergence_stops_the_test_early()
    {
        var r = Record((lr, i) => Valley(lr, i, explode: true));
        Assert.That(r.StopReason, Does.Contain("passed 4 x the best"));
        Assert.That(r.Points.Count, Is.LessThan(Range.Steps));
        Assert.That(r.Points[^1].Smoothed, Is.GreaterThan(4 * r.Points.Min(p => p.Smoothed)));

        var s = LrSuggestion.From(r.Points)!;
        Assert.That(s, Is.Not.Null);
        Assert.That(s.SteepestIndex, Is.LessThan(s.MinimumIndex));
        // The true curve falls between about 1e-4.5 and 1e-1.5, fastest at 1e-3; the windows do not lag.
        Assert.That(s.Steepest, Is.InRange(1e-3 / 2, 1e-3 * 2));
        Assert.That(s.MinimumTenth, Is.EqualTo(r.Points[s.MinimumIndex].LearningRate / 10));
        Assert.That(s.MinimumIndex, Is.LessThan(r.Points.Count - 1), "the lowest window lies before the divergence");
        Assert.That(s.StillFalling, Is.False);
    }

    /// <summary>
    /// Short, noisy tests: a fall of 0.6 around lr 1e-4.25 (95 % of it between 1e-5.23 and 1e-3.27)
    /// under batch noise of +-0.35, then divergence (MNIST's range test with vgg11 at batch 16 looks
    /// like this). The windowed slope lands in the fall far more often than the steepest central
    /// difference of the exponential average that it replaced, which a lucky early batch could move.
    /// </summary>
    [Test]
    public void On_short_noisy_curves_the_suggestion_lies_where_the_loss_falls()
    {
        double low = Math.Pow(10, -5.23), high = Math.Pow(10, -3.27);
        int windowed = 0, average = 0, runs = 200;
        for (ulong seed = 1; seed <= (ulong)runs; seed++)
        {
            var noise = new Engine.Tensors.Rng(seed);
            var r = Record((lr, i) =>
            {
                double x = Math.Log10(lr);
                return 2.35 + 0.6 / (1 + Math.Exp(3 * (x + 4.25))) + Math.Exp(4 * (x + 1.5)) + 0.35 * (2 * noise.NextDouble() - 1);
            });
            if (LrSuggestion.From(r.Points) is { } s && s.Steepest >= low && s.Steepest <= high) windowed++;
            double old = SteepestOfTheAverage(r.Points);
            if (old >= low && old <= high) average++;
        }
        TestContext.Out.WriteLine($"in the fall: windowed slope {windowed} of {runs}, exponential average {average} of {runs}");
        Assert.That(windowed, Is.GreaterThanOrEqualTo(runs * 9 / 10));
        Assert.That(windowed, Is.GreaterThan(average));
    }

    /// <summary>The previous suggestion: the steepest central difference of the smoothed loss before its minimum, after the first 10 points.</summary>
    private static double SteepestOfTheAverage(IReadOnlyList<LrRangePoint> p)
    {
        int min = 0;
        for (int i = 1; i < p.Count; i++) if (p[i].Smoothed < p[min].Smoothed) min = i;
        int best = -1;
        double steepest = 0;
        for (int i = Math.Min(10, p.Count / 10); i < min; i++)
        {
            double slope = (p[i + 1].Smoothed - p[Math.Max(0, i - 1)].Smoothed) / (Math.Log(p[i + 1].LearningRate) - Math.Log(p[Math.Max(0, i - 1)].LearningRate));
            if (slope < steepest) (best, steepest) = (i, slope);
        }
        return best < 0 ? double.NaN : p[best].LearningRate;
    }

    [Test]
    public void Windows_are_means_and_least_squares_slopes_against_log_lr()
    {
        var points = Enumerable.Range(0, 12).Select(i => new LrRangePoint(i, Math.Exp(i), 5 - 0.5 * i + (i % 2) * 0.1, 0)).ToList();
        Assert.That(LossWindows.Size(12), Is.EqualTo(5));
        Assert.That(LossWindows.Size(120), Is.EqualTo(20));
        Assert.That(LossWindows.Size(3), Is.EqualTo(3));
        var (means, slopes) = LossWindows.Of(points, 4);
        Assert.That(means, Has.Length.EqualTo(9));
        Assert.That(means[0], Is.EqualTo((5 + 4.6 + 4 + 3.6) / 4).Within(1e-12));
        // losses 5, 4.6, 4, 3.6 at ln lr 0..3: slope sum(dx dy) / sum(dx^2) = (-1.5*0.7 - 0.5*0.3 + 0.5*-0.3 + 1.5*-0.7) / 5
        Assert.That(slopes[0], Is.EqualTo(-2.4 / 5).Within(1e-12));
        Assert.Throws<ArgumentOutOfRangeException>(() => LossWindows.Of(points, 13));
    }

    [Test]
    public void A_curve_that_keeps_falling_runs_every_step_and_still_gets_a_suggestion()
    {
        var r = Record((lr, i) => Valley(lr, i, explode: false));
        Assert.That(r.StopReason, Is.Null);
        Assert.That(r.Points, Has.Count.EqualTo(Range.Steps));
        var s = LrSuggestion.From(r.Points)!;
        Assert.That(s.Steepest, Is.InRange(1e-4, 1e-2));
    }

    [Test]
    public void A_non_finite_loss_stops_the_test_without_being_recorded()
    {
        var r = Record((lr, i) => i == 30 ? double.NaN : 2.0);
        Assert.That(r.Points, Has.Count.EqualTo(30));
        Assert.That(r.StopReason, Does.StartWith("the loss became NaN at step 31"));
        Assert.That(r.Add(1, 1), Is.False);
    }

    [Test]
    public void A_flat_or_rising_curve_has_no_suggestion()
    {
        Assert.That(LrSuggestion.From(Record((lr, i) => 2.3 + 0.001 * Math.Sin(i)).Points), Is.Null);
        Assert.That(LrSuggestion.From(Record((lr, i) => 2.3 + i * 0.01).Points), Is.Null);
        Assert.That(LrSuggestion.From([]), Is.Null);
    }

    [Test]
    public void The_csv_and_the_plot_hold_every_point_and_the_marks()
    {
        var r = Record((lr, i) => Valley(lr, i, explode: true));
        var csv = LrRangeRecorder.Csv(r.Points).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(csv[0], Is.EqualTo("step,lr,loss,smoothed_loss"));
        Assert.That(csv, Has.Length.EqualTo(r.Points.Count + 1));
        Assert.That(csv[1], Does.StartWith("1,1E-07,"));

        var svg = LrFindSvg.Render("test", r.Points, LrSuggestion.From(r.Points));
        Assert.That(svg, Does.StartWith("<svg").And.Contain("learning rate (log scale)").And.Contain("steepest descent").And.Contain("lowest / 10").And.Match("mean of [0-9]+ steps"));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(svg, "<polyline"), Has.Count.EqualTo(2));
        Assert.That(() => System.Xml.Linq.XDocument.Parse(svg), Throws.Nothing);
    }
}
