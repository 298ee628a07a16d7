using System.Numerics;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class MishTests
{
    [TestCase(3, new[] { 2, 3, 5 })]
    [TestCase(1, new[] { 1, 1, 1 })]
    [TestCase(3, new[] { 7 })]
    public void Gradient_matches_central_differences(int batch, int[] sample)
    {
        var (g, y) = OpHarness.Single(new Mish(), new Shape(sample));
        var report = new GradientChecker().Check(g, batch, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * new Shape(sample).Numel));
    }

    [Test]
    public void Gradient_matches_central_differences_over_a_wide_range()
    {
        // Spread well past the softplus threshold on both sides, keeping clear of x = 20 itself.
        double[] x = [-40, -19, -7.5, -1, -0.3, 0, 0.4, 3, 12, 19.5, 21, 35];
        var (g, y) = OpHarness.Single(new Mish(), new Shape(x.Length));
        var report = new GradientChecker().Check(g, 1, y[0], e => e.SetInput("x0", x));
        Assert.That(report.Failures, Is.Empty, report.ToString());
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Matches_the_closed_form_at_moderate_inputs(bool useFloat)
    {
        double[] x = [-9, -4.25, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 2.5, 6, 15];
        var (y, dydx) = Run(x, useFloat);
        double tolerance = useFloat ? 2e-6 : 1e-13;
        for (int i = 0; i < x.Length; i++)
        {
            var (ry, rd) = Reference(x[i]);
            Assert.That(y[i], Is.EqualTo(ry).Within(tolerance * Math.Max(1, Math.Abs(ry))), $"y at x = {x[i]}");
            Assert.That(dydx[i], Is.EqualTo(rd).Within(tolerance * Math.Max(1, Math.Abs(rd))), $"dy/dx at x = {x[i]}");
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Is_finite_and_follows_its_asymptotes_at_large_magnitudes(bool useFloat)
    {
        double[] x = [-1e4, -88, -20, 0, 20, 88, 1e4];
        var (y, dydx) = Run(x, useFloat);
        double relative = useFloat ? 1e-5 : 1e-12;
        for (int i = 0; i < x.Length; i++)
        {
            Assert.That(double.IsFinite(y[i]) && double.IsFinite(dydx[i]), $"x = {x[i]}: y = {y[i]}, dy/dx = {dydx[i]}");
            var (ry, rd) = Reference(x[i]);
            // Relative even for the tiny values on the negative side (-88 * e^-88 ~ -5e-37):
            // computing log(1 + e^x) naively would return 0 there.
            Assert.That(y[i], Is.EqualTo(ry).Within(relative * Math.Abs(ry)), $"y at x = {x[i]}");
            Assert.That(dydx[i], Is.EqualTo(rd).Within(relative * Math.Abs(rd)), $"dy/dx at x = {x[i]}");
        }
        Assert.That(y[^1], Is.EqualTo(1e4), "y -> x as x -> +inf");
        Assert.That(dydx[^1], Is.EqualTo(1), "dy/dx -> 1 as x -> +inf");
        Assert.That(y[0], Is.EqualTo(0), "y -> 0 as x -> -inf");
        Assert.That(dydx[0], Is.EqualTo(0), "dy/dx -> 0 as x -> -inf");
    }

    /// <summary>
    /// Mish from an algebraically different form: tanh(log(1 + e)) = (e^2 + 2e) / (e^2 + 2e + 2)
    /// with e = exp(x), and its derivative by the quotient rule. Beyond x = 300 (where e^2
    /// overflows) y = x and dy/dx = 1 to double precision.
    /// </summary>
    private static (double Y, double DyDx) Reference(double x)
    {
        if (x > 300) return (x, 1);
        double e = Math.Exp(x);
        double num = e * (e + 2);
        double den = num + 2;
        return (x * num / den, num / den + 4 * x * e * (e + 1) / (den * den));
    }

    /// <summary>Forward and backward (dy = 1) of one Mish node on the float or double CPU backend.</summary>
    private static (double[] Y, double[] DyDx) Run(double[] x, bool useFloat)
    {
        var (g, y) = OpHarness.Single(new Mish(), new Shape(x.Length));
        using Backend backend = useFloat ? new CpuBackend<float>() : new CpuBackend<double>();
        using var exec = new Executor(g, backend, 1, inputGradients: true);
        exec.SetInput("x0", x);
        exec.Forward(training: true);
        exec.Backward(y[0], Enumerable.Repeat(1.0, x.Length).ToArray());
        return (exec.Read(y[0]), exec.ReadGrad(g.Inputs[0]));
    }
}
