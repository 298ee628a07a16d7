using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

/// <summary>The float max-pool forward (SIMD gathers over flattened planes) gives the double reference's values and indices, ties and NaNs included.</summary>
public class MaxPoolFloatTests
{
    [TestCase(2, 3, 7, 7, 3, 2, 1, false)]
    [TestCase(2, 3, 16, 16, 3, 2, 1, true)]
    [TestCase(3, 2, 6, 6, 2, 2, 0, true)]
    [TestCase(1, 3, 5, 7, 3, 3, 1, true)]
    [TestCase(2, 5, 2, 2, 3, 2, 1, true)]
    [TestCase(1, 2, 9, 4, 3, 1, 1, false)]
    public void Float_forward_matches_the_double_reference(int n, int c, int h, int w, int k, int s, int p, bool ceil)
    {
        var rng = new Rng(17);
        // Few distinct values (ties), all negative (padding read as 0 would win), some NaNs.
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => rng.NextInt(29) == 0 ? double.NaN : -1.0 - rng.NextInt(3)).ToArray();
        var (g, _) = OpHarness.Single(new MaxPool(k, s, p, ceil, withIndices: true), new Shape(c, h, w));
        var (values, indices) = Run<double>(g, n, x);
        var (fValues, fIndices) = Run<float>(g, n, x);
        Assert.That(fIndices, Is.EqualTo(indices));
        Assert.That(fValues, Is.EqualTo(values));
    }

    private static (double[] Values, int[] Indices) Run<T>(Graph.Graph g, int batch, double[] x) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        using var exec = new Executor(g, new CpuBackend<T>(), batch);
        exec.SetInput("x0", x);
        exec.Forward(training: false);
        return (exec.Read(g.Outputs["y0"]), exec.ReadInt(g.Outputs["y1"]));
    }
}
