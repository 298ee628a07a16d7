using System.Numerics;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Tests.Ops;

public class GemmTests
{
    private static readonly bool[] Flags = [false, true];

    // Odd sizes that leave partial micro-tiles in both directions, and sizes that cross the
    // packing blocks (depth 256 floats / 128 doubles, 1024 columns, 512 rows).
    [TestCase(1, 1, 1)]
    [TestCase(7, 5, 3)]
    [TestCase(13, 37, 29)]
    [TestCase(33, 65, 300)]
    [TestCase(517, 9, 11)]
    [TestCase(5, 1030, 7)]
    public void Float_matches_naive_triple_loop_for_all_transposes(int m, int n, int k)
    {
        foreach (bool ta in Flags)
            foreach (bool tb in Flags)
                foreach (bool acc in Flags)
                    CheckAgainstNaive<float>(ta, tb, m, n, k, acc, padding: 0, tolerance: 1e-5);
    }

    [TestCase(7, 5, 3)]
    [TestCase(19, 41, 263)]
    public void Double_matches_naive_triple_loop_for_all_transposes(int m, int n, int k)
    {
        foreach (bool ta in Flags)
            foreach (bool tb in Flags)
                foreach (bool acc in Flags)
                    CheckAgainstNaive<double>(ta, tb, m, n, k, acc, padding: 0, tolerance: 1e-13);
    }

    [Test]
    public void Strided_operands_touch_only_their_submatrix()
    {
        foreach (bool ta in Flags)
            foreach (bool tb in Flags)
                CheckAgainstNaive<float>(ta, tb, 11, 35, 17, accumulate: true, padding: 3, tolerance: 1e-5);
    }

    // Large enough to be split over the cores: along the columns, then along the rows.
    [TestCase(64, 300, 200)]
    [TestCase(200, 20, 600)]
    public void Parallel_result_is_bitwise_the_serial_one(int m, int n, int k)
    {
        var rng = new Rng(11);
        var a = Random<float>(rng, m * k);
        var b = Random<float>(rng, k * n);
        var serial = Random<float>(rng, m * n);
        var parallel = (float[])serial.Clone();
        Gemm.Multiply<float>(false, true, m, n, k, a, b, serial, accumulate: true, parallel: false);
        Gemm.Multiply<float>(false, true, m, n, k, a, b, parallel, accumulate: true, parallel: true);
        Assert.That(parallel, Is.EqualTo(serial));
    }

    [Test]
    public void Overwrite_ignores_what_was_in_C()
    {
        var a = new float[] { 1, 2, 3, 4 }; // 2x2
        var b = new float[] { 5, 6, 7, 8 };
        var c = new float[] { float.NaN, float.NaN, float.NaN, float.NaN };
        Gemm.Multiply<float>(false, false, 2, 2, 2, a, b, c, accumulate: false);
        Assert.That(c, Is.EqualTo(new float[] { 19, 22, 43, 50 }));
    }

    [Test]
    public void Empty_inner_dimension_clears_or_keeps_C()
    {
        var c = new double[] { 1, 2, 3 };
        Gemm.Multiply<double>(false, false, 1, 3, 0, [], [], c, accumulate: true);
        Assert.That(c, Is.EqualTo(new double[] { 1, 2, 3 }));
        Gemm.Multiply<double>(false, false, 1, 3, 0, [], [], c, accumulate: false);
        Assert.That(c, Is.EqualTo(new double[] { 0, 0, 0 }));
    }

    [Test]
    public void Too_short_operand_is_rejected_by_name()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply<float>(false, false, 3, 3, 3, new float[9], new float[8], new float[9], false));
        Assert.That(ex!.Message, Does.Contain("B").And.Contain("9").And.Contain("8"));
        ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply<float>(false, false, 3, 3, 3, new float[9], 2, new float[9], 3, new float[9], 3, false));
        Assert.That(ex!.Message, Does.Contain("leading dimension of A"));
    }

    private static void CheckAgainstNaive<T>(bool ta, bool tb, int m, int n, int k, bool accumulate, int padding, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng((ulong)(m * 1000003 + n * 1009 + k));
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + padding, ldb = bCols + padding, ldc = n + padding;
        var a = Random<T>(rng, aRows * lda);
        var b = Random<T>(rng, bRows * ldb);
        var c = Random<T>(rng, m * ldc);
        var before = (T[])c.Clone();

        Gemm.Multiply<T>(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);

        string label = $"{typeof(T).Name} m={m} n={n} k={k} transA={ta} transB={tb} accumulate={accumulate} ld+{padding}";
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                double got = double.CreateTruncating(c[i * ldc + j]);
                if (j >= n)
                {
                    Assert.That(got, Is.EqualTo(double.CreateTruncating(before[i * ldc + j])), $"{label}: C[{i},{j}] lies outside the product and changed");
                    continue;
                }
                double sum = accumulate ? double.CreateTruncating(before[i * ldc + j]) : 0, scale = Math.Abs(sum);
                for (int p = 0; p < k; p++)
                {
                    double term = double.CreateTruncating(ta ? a[p * lda + i] : a[i * lda + p]) * double.CreateTruncating(tb ? b[j * ldb + p] : b[p * ldb + j]);
                    sum += term;
                    scale += Math.Abs(term);
                }
                if (Math.Abs(got - sum) > tolerance * Math.Max(scale, 1))
                    Assert.Fail($"{label}: C[{i},{j}] = {got}, naive {sum}");
            }
    }

    private static T[] Random<T>(Rng rng, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[count];
        for (int i = 0; i < count; i++) r[i] = T.CreateTruncating(rng.NextNormal());
        return r;
    }
}
