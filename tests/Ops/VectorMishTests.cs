using Engine.Ops.Cpu;

namespace Engine.Tests.Ops;

/// <summary>
/// The float SIMD exp and Mish against double references: exp in ulps of the correctly rounded
/// float over the whole range, Mish and its derivative in relative error, and the lane/tail
/// handling (every position of a span gets the same value).
/// </summary>
public class VectorMishTests
{
    [Test]
    public void Exp_is_within_two_ulp_of_the_correctly_rounded_value_over_the_float_range()
    {
        var x = new List<float>();
        for (double v = -103.9; v < 88.72; v += 1.7e-4) x.Add((float)v);
        for (float v = -1e-3f; v < 1e-3f; v += 1.3e-7f) x.Add(v);
        var y = new float[x.Count];
        VectorExp.Exp(x.ToArray(), y);
        long worstUlp = 0;
        double worstSubnormal = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double exact = Math.Exp(x[i]);
            float rounded = (float)exact;
            if (rounded < 1.17549435e-38f) { worstSubnormal = Math.Max(worstSubnormal, Math.Abs(y[i] - exact) / float.Epsilon); continue; }
            long ulp = Math.Abs((long)BitConverter.SingleToInt32Bits(y[i]) - BitConverter.SingleToInt32Bits(rounded));
            if (ulp > worstUlp) (worstUlp, worstAt) = (ulp, x[i]);
        }
        TestContext.Out.WriteLine($"exp: {x.Count} points, max {worstUlp} ulp (at {worstAt}) from the correctly rounded float; subnormal results within {worstSubnormal:F2} x 2^-149");
        Assert.That(worstUlp, Is.LessThanOrEqualTo(2));
        Assert.That(worstSubnormal, Is.LessThanOrEqualTo(1.0));
    }

    [Test]
    public void Exp_handles_the_edges()
    {
        float[] x = [float.NegativeInfinity, -1e4f, -104f, 0f, 88.72f, 1e4f, float.PositiveInfinity, float.NaN];
        var y = new float[x.Length];
        VectorExp.Exp(x, y);
        Assert.That(y[0..3], Is.All.EqualTo(0f));
        Assert.That(y[3], Is.EqualTo(1f));
        Assert.That(y[4], Is.EqualTo((float)Math.Exp(88.72f)).Within(2).Ulps);
        Assert.That(float.IsFinite(y[5]) && float.IsFinite(y[6]), $"{y[5]}, {y[6]}");
        Assert.That(float.IsNaN(y[7]));
    }

    [Test]
    public void Mish_and_its_derivative_match_the_double_reference()
    {
        var xs = new List<float>();
        for (double v = -87; v < 40; v += 1.1e-3) xs.Add((float)v);
        float[] x = [.. xs];
        var y = new float[x.Length];
        var d = new float[x.Length];
        var ones = Enumerable.Repeat(1f, x.Length).ToArray();
        VectorMish.Forward(x, y);
        VectorMish.Gradient(x, ones, d, accumulate: false);
        double worstY = 0, worstD = 0;
        float worstDAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            var (ry, rd, scale) = Reference(x[i]);
            worstY = Math.Max(worstY, Math.Abs(y[i] - ry) / Math.Abs(ry));
            // mish' is a sum of two terms that cancel near its zero (x ~ -1.19): relative to their magnitude.
            double errD = Math.Abs(d[i] - rd) / scale;
            if (errD > worstD) (worstD, worstDAt) = (errD, x[i]);
        }
        TestContext.Out.WriteLine($"mish on [-87, 40]: max relative error {worstY:E2}, derivative {worstD:E2} (at {worstDAt})");
        Assert.That(worstY, Is.LessThan(1e-6));
        Assert.That(worstD, Is.LessThan(2e-6));
        Assert.That(y[^1], Is.EqualTo(x[^1]));
        Assert.That(d[^1], Is.EqualTo(1f));
    }

    [Test]
    public void Every_position_and_length_gets_the_same_values_and_gradients_accumulate()
    {
        var rng = new Random(5);
        for (int length = 1; length <= 41; length++)
        {
            var x = Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 12 - 6)).ToArray();
            var dy = Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var y = new float[length];
            VectorMish.Forward(x, y);
            var dx = Enumerable.Repeat(0.5f, length).ToArray();
            VectorMish.Gradient(x, dy, dx, accumulate: true);
            var inPlace = (float[])x.Clone();
            VectorMish.Gradient(inPlace, dy, inPlace, accumulate: false);
            for (int i = 0; i < length; i++)
            {
                var one = new float[1];
                VectorMish.Forward([x[i]], one);
                Assert.That(y[i], Is.EqualTo(one[0]), $"length {length}, y[{i}]");
                var g = new float[1];
                VectorMish.Gradient([x[i]], [dy[i]], g, accumulate: false);
                Assert.That(inPlace[i], Is.EqualTo(g[0]), $"length {length}, in-place dx[{i}]");
                Assert.That(dx[i], Is.EqualTo(0.5f + g[0]), $"length {length}, accumulated dx[{i}]");
            }
        }
    }

    /// <summary>mish, mish' and |first term| + |second term| of mish' (the scale of its rounding), in double.</summary>
    private static (double Y, double DyDx, double Scale) Reference(double x)
    {
        if (x > 300) return (x, 1, 1);
        double e = Math.Exp(x);
        double num = e * (e + 2);
        double den = num + 2;
        double first = num / den, second = 4 * x * e * (e + 1) / (den * den);
        return (x * num / den, first + second, Math.Abs(first) + Math.Abs(second));
    }
}
