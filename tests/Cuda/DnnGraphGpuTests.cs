using Engine.Cuda;
using Engine.Cuda.DnnGraph;
using Engine.Cuda.Native;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Cuda;

/// <summary>
/// Convolutions through cuDNN's backend (graph) API against a float64 loop reference and the
/// legacy API, in NCHW and NHWC memory; the executor's Conv2d with the graph API selected; the
/// legacy fallback; and a finalize error's message.
/// </summary>
[Category("Gpu")]
public class DnnGraphGpuTests : GpuBackendFixture
{
    private static void RequireCudnn()
    {
        if (!NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"needs cuDNN: {why}");
    }

    // n, c, h, w, k, kernel, stride, padding, dilation, groups
    private static readonly int[][] Shapes = [[2, 4, 7, 6, 6, 3, 1, 1, 1, 1], [1, 4, 9, 8, 4, 3, 2, 2, 2, 2]];

    private static ConvShape ShapeOf(int[] a)
    {
        int outH = (a[2] + 2 * a[7] - a[8] * (a[5] - 1) - 1) / a[6] + 1;
        int outW = (a[3] + 2 * a[7] - a[8] * (a[5] - 1) - 1) / a[6] + 1;
        return new ConvShape(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], outH, outW);
    }

    [Test]
    public void PassesMatchReferenceAndLegacy([Values(ConvPass.Forward, ConvPass.BackwardData, ConvPass.BackwardFilter)] ConvPass pass,
        [Values(GraphLayout.Nchw, GraphLayout.Nhwc)] GraphLayout layout, [Values(0, 1)] int shape, [Values(0f, 1f)] float beta)
    {
        RequireCudnn();
        var gpu = Gpu;
        var s = ShapeOf(Shapes[shape]);
        var rng = new Random(11 + shape);
        var (x, w, y) = (Random(rng, s.N * s.C * s.H * s.W), Random(rng, s.K * (s.C / s.Groups) * s.Kernel * s.Kernel), Random(rng, s.N * s.K * s.OutH * s.OutW));
        var expected = pass switch
        {
            ConvPass.Forward => Blend(ConvReference.Forward(s, x, w), beta, y),
            ConvPass.BackwardData => Blend(ConvReference.BackwardData(s, y, w), beta, x),
            _ => Blend(ConvReference.BackwardFilter(s, x, y), beta, w),
        };
        using var bx = Device(gpu, Pack(layout, x, s.N, s.C, s.H, s.W));
        using var bw = Device(gpu, Pack(layout, w, s.K, s.C / s.Groups, s.Kernel, s.Kernel));
        using var by = Device(gpu, Pack(layout, y, s.N, s.K, s.OutH, s.OutW));
        var problem = new ConvGraphProblem(pass, s, (long)s.C * s.H * s.W, layout, GraphDataType.Float, beta,
            GraphTensor.AlignmentOf(bx.Ptr.Address), GraphTensor.AlignmentOf(bw.Ptr.Address), GraphTensor.AlignmentOf(by.Ptr.Address), Tf32: false, Deterministic: true);
        Assert.That(gpu.Dnn.TryGraphConvolution(problem, bx.Ptr, bw.Ptr, by.Ptr), Is.True, string.Join("\n", gpu.Dnn.GraphFallbacks));
        var (outBuffer, dims) = pass switch
        {
            ConvPass.Forward => (by, new[] { s.N, s.K, s.OutH, s.OutW }),
            ConvPass.BackwardData => (bx, new[] { s.N, s.C, s.H, s.W }),
            _ => (bw, new[] { s.K, s.C / s.Groups, s.Kernel, s.Kernel }),
        };
        var graph = Unpack(layout, Host(gpu, outBuffer), dims[0], dims[1], dims[2], dims[3]);
        AssertClose(graph, expected, $"{pass} {layout} against the reference");
        if (layout == GraphLayout.Nhwc) return;

        // The legacy API on the same inputs (NCHW only: the executor's descriptors are NCHW).
        using var lx = Device(gpu, x);
        using var lw = Device(gpu, w);
        using var ly = Device(gpu, y);
        using var d = new ConvDescriptors(s, tf32: false);
        switch (pass)
        {
            case ConvPass.Forward: gpu.Dnn.ConvolutionForward(d, lx.Ptr, lw.Ptr, ly.Ptr, beta); break;
            case ConvPass.BackwardData: gpu.Dnn.ConvolutionBackwardData(d, lw.Ptr, ly.Ptr, lx.Ptr, beta); break;
            default: gpu.Dnn.ConvolutionBackwardFilter(d, lx.Ptr, ly.Ptr, lw.Ptr, beta); break;
        }
        var legacy = Host(gpu, pass == ConvPass.Forward ? ly : pass == ConvPass.BackwardData ? lx : lw);
        AssertClose(graph, legacy.Select(v => (double)v).ToArray(), $"{pass} against the legacy API");
    }

    /// <summary>x (or dx) as a channel slice of a concatenation: samples further apart than c*h*w, the gaps left alone.</summary>
    [TestCase(ConvPass.Forward)]
    [TestCase(ConvPass.BackwardData)]
    public void ChannelSliceInput(ConvPass pass)
    {
        RequireCudnn();
        var gpu = Gpu;
        var s = ShapeOf(Shapes[0]);
        int sample = s.C * s.H * s.W, stride = sample + 3 * s.H * s.W;
        var rng = new Random(5);
        var (x, w, y) = (Random(rng, s.N * sample), Random(rng, s.K * s.C * s.Kernel * s.Kernel), Random(rng, s.N * s.K * s.OutH * s.OutW));
        var spread = Enumerable.Repeat(7.0, s.N * stride).ToArray();
        for (int n = 0; n < s.N; n++) Array.Copy(x, n * sample, spread, n * stride, sample);
        using var bx = Device(gpu, spread);
        using var bw = Device(gpu, w);
        using var by = Device(gpu, y);
        var problem = new ConvGraphProblem(pass, s, stride, GraphLayout.Nchw, GraphDataType.Float, 0, 16, 16, 16, false, true);
        Assert.That(gpu.Dnn.TryGraphConvolution(problem, bx.Ptr, bw.Ptr, by.Ptr), Is.True);
        if (pass == ConvPass.Forward)
        {
            AssertClose(Host(gpu, by).Select(v => (double)v).ToArray(), ConvReference.Forward(s, x, w), "forward from a channel slice");
            return;
        }
        var dx = Host(gpu, bx);
        var expected = ConvReference.BackwardData(s, y, w);
        var packed = new double[s.N * sample];
        for (int n = 0; n < s.N; n++)
        {
            for (int i = 0; i < sample; i++) packed[n * sample + i] = dx[n * stride + i];
            for (int i = sample; i < stride && n * stride + i < dx.Length; i++) Assert.That(dx[n * stride + i], Is.EqualTo(7f), "the gap between samples");
        }
        AssertClose(packed, expected, "backward data into a channel slice");
    }

    [TestCase(3, 1, 1, 1, 2, true)]
    [TestCase(3, 2, 2, 2, 1, false)]
    [TestCase(1, 1, 0, 1, 1, true)]
    public void Conv2dOpWithGraphApiMatchesCpu(int kernel, int stride, int padding, int dilation, int groups, bool bias)
    {
        RequireCudnn();
        GpuAvailability.Require();
        var log = new List<string>();
        using var gpu = CudaBackend.Create(0, new CudaOptions { ConvApi = ConvApi.Graph, Log = log.Add });
        var (g, y) = OpHarness.Single(new Conv2d(6, kernel, stride, padding, dilation, groups, bias), new Shape(4, 9, 8));
        new GpuParity { Tolerance = 2e-4 }.Check(gpu, g, 2, y[0], steps: 2);
        Assert.That(log, Is.Empty);
        Assert.That(gpu.Dnn.GraphPlanCount, Is.EqualTo(3), "forward, backward data and backward filter planned once each");
        Assert.That(gpu.Dnn.Algorithms.Count, Is.EqualTo(0), "the legacy API was not used");
    }

    /// <summary>A tiny VoVNet-57 (its OSA blocks convolve channel slices of concatenations) with every convolution through the graph API.</summary>
    [Test]
    public void TinyVoVNetWithGraphApiMatchesCpu()
    {
        RequireCudnn();
        GpuAvailability.Require();
        var options = new Engine.Nets.NetOptions { Width = 1.0 / 16, Input = new Shape(3, 64, 64), Classes = 4 };
        var g = Engine.Nets.NetRegistry.Build("vovnet57", options);
        var log = new List<string>();
        using var gpu = CudaBackend.Create(0, new CudaOptions { ConvApi = ConvApi.Graph, Log = log.Add });
        new GpuParity { Tolerance = 1e-3, IntInput = (v, n) => Enumerable.Range(0, (int)v.Shape.WithBatch(n).Numel).Select(i => (i * 7 + 3) % 4).ToArray() }
            .Check(gpu, g, 4, g.Loss!, steps: 2);
        Assert.That(log, Is.Empty);
        Assert.That(gpu.Dnn.Algorithms.Count, Is.EqualTo(0), "no convolution went to the legacy API");
        Assert.That(gpu.Dnn.GraphPlanCount, Is.GreaterThan(0));
    }

    [Test]
    public void FakeEngineRefusingBf16IsLoggedOnceAndReportsFalse()
    {
        RequireCudnn();
        var gpu = Gpu;
        if (!GpuAvailability.IsFake) Assert.Ignore("the fake's engine refuses bf16; a real GPU's may take it");
        var s = ShapeOf(Shapes[0]);
        var p = new ConvGraphProblem(ConvPass.Forward, s, (long)s.C * s.H * s.W, GraphLayout.Nhwc, GraphDataType.BFloat16, 0, 16, 16, 16, false, true);
        int before = gpu.Dnn.GraphFallbacks.Count;
        Assert.That(gpu.Dnn.TryGraphConvolution(p, DevicePtr.Null, DevicePtr.Null, DevicePtr.Null), Is.False);
        Assert.That(gpu.Dnn.TryGraphConvolution(p, DevicePtr.Null, DevicePtr.Null, DevicePtr.Null), Is.False);
        Assert.That(gpu.Dnn.GraphFallbacks, Has.Count.EqualTo(before + 1), "logged once per problem");
        Assert.That(gpu.Dnn.GraphFallbacks[^1], Does.Contain("BFloat16").And.Contain("legacy").And.Contain("CUDNN_STATUS_NOT_SUPPORTED"));
        Assert.That(gpu.Dnn.GraphFallbacks[^1], Does.Not.Contain("\n"));
    }

    [Test]
    public void FinalizeErrorNamesDescriptorAndAttribute()
    {
        RequireCudnn();
        _ = Gpu;
        using var t = new BackendDescriptor(NativeBackendApi.Instance, BackendDescriptorType.Tensor);
        t.SetEnum(BackendAttribute.TensorDataType, BackendAttributeType.DataType, Cudnn.DataFloat)
            .Set(BackendAttribute.TensorDimensions, [1L, 2, 3, 4])
            .Set(BackendAttribute.TensorUniqueId, 5L)
            .Set(BackendAttribute.TensorByteAlignment, 16L);
        var e = Assert.Throws<CudaException>(() => t.Finalize())!;
        Assert.That(e.ErrorName, Does.StartWith("CUDNN_STATUS_BAD_PARAM"));
        Assert.That(e.Message, Does.Contain("cudnnBackendFinalize(CUDNN_BACKEND_TENSOR_DESCRIPTOR"));
        Assert.That(e.Message, Does.Contain("set: CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT"));
        // cuDNN's own last-error text names what is missing; the fake's wording is known.
        if (GpuAvailability.IsFake) Assert.That(e.Detail, Does.Contain("CUDNN_ATTR_TENSOR_STRIDES"));
    }

    private static double[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (double)(float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static double[] Blend(double[] value, float beta, double[] old) => value.Select((v, i) => v + beta * old[i]).ToArray();

    /// <summary>Logical [a, b, c, d] values laid out as NCHW (as is) or NHWC ([a, c, d, b]).</summary>
    private static double[] Pack(GraphLayout layout, double[] v, int a, int b, int c, int d)
    {
        if (layout == GraphLayout.Nchw) return v;
        var r = new double[v.Length];
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                for (int k = 0; k < c; k++)
                    for (int l = 0; l < d; l++)
                        r[((i * c + k) * d + l) * b + j] = v[((i * b + j) * c + k) * d + l];
        return r;
    }

    private static double[] Unpack(GraphLayout layout, float[] m, int a, int b, int c, int d)
    {
        var r = new double[m.Length];
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                for (int k = 0; k < c; k++)
                    for (int l = 0; l < d; l++)
                        r[((i * b + j) * c + k) * d + l] = m[layout == GraphLayout.Nchw ? ((i * b + j) * c + k) * d + l : ((i * c + k) * d + l) * b + j];
        return r;
    }

    private static CudaBuffer Device(CudaBackend gpu, double[] v)
    {
        var b = (CudaBuffer)gpu.Allocate(v.Length, DataType.F32);
        gpu.Upload(new BufferSlice(b, 0, v.Length, DataType.F32), v);
        return b;
    }

    private static float[] Host(CudaBackend gpu, CudaBuffer b)
    {
        var r = new float[b.Count];
        gpu.Download(new BufferSlice(b, 0, b.Count, DataType.F32), r);
        return r;
    }

    private static void AssertClose(double[] actual, double[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double scale = Math.Max(1, expected.Max(Math.Abs));
        for (int i = 0; i < actual.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-4 * scale), $"{what}: element {i}");
    }
}

/// <summary>The three convolution passes as float64 loops over NCHW / KCRS arrays.</summary>
internal static class ConvReference
{
    private static void ForEach(ConvShape s, Action<int, int, int> term)
    {
        int cPerGroup = s.C / s.Groups, kPerGroup = s.K / s.Groups;
        for (int n = 0; n < s.N; n++)
            for (int k = 0; k < s.K; k++)
                for (int oh = 0; oh < s.OutH; oh++)
                    for (int ow = 0; ow < s.OutW; ow++)
                        for (int c = 0; c < cPerGroup; c++)
                            for (int r = 0; r < s.Kernel; r++)
                                for (int q = 0; q < s.Kernel; q++)
                                {
                                    int ih = oh * s.Stride - s.Padding + r * s.Dilation, iw = ow * s.Stride - s.Padding + q * s.Dilation;
                                    if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                                    int xc = k / kPerGroup * cPerGroup + c;
                                    term(((n * s.C + xc) * s.H + ih) * s.W + iw, ((k * cPerGroup + c) * s.Kernel + r) * s.Kernel + q,
                                        ((n * s.K + k) * s.OutH + oh) * s.OutW + ow);
                                }
    }

    public static double[] Forward(ConvShape s, double[] x, double[] w)
    {
        var y = new double[s.N * s.K * s.OutH * s.OutW];
        ForEach(s, (xi, wi, yi) => y[yi] += x[xi] * w[wi]);
        return y;
    }

    public static double[] BackwardData(ConvShape s, double[] dy, double[] w)
    {
        var dx = new double[s.N * s.C * s.H * s.W];
        ForEach(s, (xi, wi, yi) => dx[xi] += dy[yi] * w[wi]);
        return dx;
    }

    public static double[] BackwardFilter(ConvShape s, double[] x, double[] dy)
    {
        var dw = new double[s.K * (s.C / s.Groups) * s.Kernel * s.Kernel];
        ForEach(s, (xi, wi, yi) => dw[wi] += dy[yi] * x[xi]);
        return dw;
    }
}
