using Engine.Cuda;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Ops;
using Engine.Tests.Support;

namespace Engine.Tests.Cuda;

/// <summary>The fused batch norm + activation's kernels (bnact) against its CPU reference, on a backend of their own so that any host fallback shows.</summary>
[Category("Gpu")]
public class BatchNormActivationGpuTests : GpuBackendFixture
{
    // (6, 5, 7): planes smaller than a block (flat walk); (3, 17, 19): whole planes; (6): [N, C].
    [TestCase(ActivationKind.Mish, true, 4, new[] { 6, 5, 7 })]
    [TestCase(ActivationKind.Relu, true, 4, new[] { 6, 5, 7 })]
    [TestCase(ActivationKind.Mish, false, 3, new[] { 6, 5, 7 })]
    [TestCase(ActivationKind.Relu, false, 3, new[] { 6, 5, 7 })]
    [TestCase(ActivationKind.Mish, true, 2, new[] { 3, 17, 19 })]
    [TestCase(ActivationKind.Relu, true, 8, new[] { 6 })]
    [TestCase(ActivationKind.Mish, false, 8, new[] { 6 })]
    public void Matches_the_cpu_reference(ActivationKind act, bool training, int batch, int[] sample)
    {
        var (g, y) = OpHarness.Single(new BatchNormActivation(act, momentum: 0.3), new Shape(sample));
        new GpuParity { Tolerance = 2e-4, Training = training }.Check(Gpu, g, batch, y[0], steps: 2);
        Assert.That(Gpu.HostFallbacks, Is.Empty);
    }

    [TestCase(ActivationKind.Mish, true)]
    [TestCase(ActivationKind.Relu, true)]
    [TestCase(ActivationKind.Mish, false)]
    public void Writes_and_reads_a_strided_output_slice(ActivationKind act, bool training)
    {
        const int batch = 3;
        var shape = new Shape(4, 3, 5);
        var (g, _) = OpHarness.Single(new BatchNormActivation(act), shape);
        var d = BatchNormActivationTests.Data.For(shape, batch, 9);
        long stride = shape.Numel + 9;
        using var cpu = new CpuBackend<double>();
        var want = StridedRun.Run(cpu, g.Nodes[0], batch, stride, d.X, [d.Weight, d.Bias], [d.RunningMean, d.RunningVar], d.Dy, training);
        var got = StridedRun.Run(Gpu, g.Nodes[0], batch, stride, d.X, [d.Weight, d.Bias], [d.RunningMean, d.RunningVar], d.Dy, training);
        Assert.That(got.Y, Is.EqualTo(want.Y).Within(2e-4), "output");
        Assert.That(got.Gaps, Is.All.EqualTo(StridedRun.Sentinel), "elements between the samples are left alone");
        Assert.That(got.Dx, Is.EqualTo(want.Dx).Within(2e-4), "input gradient");
        Assert.That(got.ParamGrads, Is.EqualTo(want.ParamGrads).Within(2e-3), "parameter gradients");
        Assert.That(got.States, Is.EqualTo(want.States).Within(2e-4), "running statistics");
        Assert.That(Gpu.HostFallbacks, Is.Empty);
    }
}
