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
        // The true curve falls between about 1e-4.5 and 1e-1.5; the smoothed one lags a little behind.
        Assert.That(s.Steepest, Is.InRange(1e-4, 1e-1));
        var p = r.Points;
        Assert.That(p[s.SteepestIndex + 1].Smoothed, Is.LessThan(p[s.SteepestIndex - 1].Smoothed));
        Assert.That(s.MinimumTenth, Is.EqualTo(p[s.MinimumIndex].LearningRate / 10));
        Assert.That(p[s.MinimumIndex].Smoothed, Is.EqualTo(p.Min(q => q.Smoothed)));
    }

    [Test]
    public void A_curve_that_keeps_falling_runs_every_step_and_still_gets_a_suggestion()
    {
        var r = Record((lr, i) => Valley(lr, i, explode: false));
        Assert.That(r.StopReason, Is.Null);
        Assert.That(r.Points, Has.Count.EqualTo(Range.Steps));
        var s = LrSuggestion.From(r.Points)!;
        Assert.That(s.Steepest, Is.InRange(1e-4, 1e-1));
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
        Assert.That(svg, Does.StartWith("<svg").And.Contain("learning rate (log scale)").And.Contain("steepest descent").And.Contain("minimum / 10"));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(svg, "<polyline"), Has.Count.EqualTo(2));
        Assert.That(() => System.Xml.Linq.XDocument.Parse(svg), Throws.Nothing);
    }
}
