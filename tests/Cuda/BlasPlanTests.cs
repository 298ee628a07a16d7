using Engine.Cuda;
using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>
/// The row-major-to-column-major translation checked without a GPU: a plain column-major GEMM
/// with cuBLAS' argument semantics, called the way <see cref="Blas"/> calls cublasGemmEx, must
/// give the row-major product.
/// </summary>
public class BlasPlanTests
{
    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void SwappedOperandsGiveTheRowMajorProduct(bool transA, bool transB)
    {
        const int m = 3, n = 5, k = 4;
        var rng = new Random(1);
        var a = Enumerable.Range(0, m * k).Select(_ => rng.NextDouble()).ToArray(); // stored k×m when transA
        var b = Enumerable.Range(0, k * n).Select(_ => rng.NextDouble()).ToArray(); // stored n×k when transB
        var c = Enumerable.Range(0, m * n).Select(_ => rng.NextDouble()).ToArray();
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                expected[i * n + j] = 2 * sum + 0.5 * c[i * n + j];
            }

        var (op, lda, ldb) = Blas.Plan(transA, transB, m, n, k);
        // Blas passes (op.B, op.A, n, m, k, B, ldb, A, lda, C, ldc = n).
        ColumnMajorGemm(op.B, op.A, n, m, k, 2, b, ldb, a, lda, 0.5, c, n);

        Assert.That(c, Is.EqualTo(expected).Within(1e-12));
    }

    /// <summary>cuBLAS semantics: C(m×n) = alpha·op(A)·op(B) + beta·C, all column-major with leading dimensions.</summary>
    private static void ColumnMajorGemm(int opA, int opB, int m, int n, int k, double alpha, double[] a, int lda, double[] b, int ldb,
        double beta, double[] c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = opA == Cublas.OpN ? a[i + p * lda] : a[p + i * lda];
                    double bv = opB == Cublas.OpN ? b[p + j * ldb] : b[j + p * ldb];
                    sum += av * bv;
                }
                c[i + j * ldc] = alpha * sum + beta * c[i + j * ldc];
            }
    }
}
