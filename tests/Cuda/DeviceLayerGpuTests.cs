using System.Text;
using Engine.Cuda;
using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>The device layer on a real GPU: memory, copies, PTX loading, launches, events, graphs.</summary>
[Category("Gpu")]
public class DeviceLayerGpuTests
{
    // nvcc 11.8 -ptx -arch=compute_60 of:
    // extern "C" __global__ void test_axpy_f32(float a, const float* x, float* y, int n)
    // { for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) y[i] = a * x[i] + y[i]; }
    private const string AxpyPtx = """
        .version 7.8
        .target sm_60
        .address_size 64

        .visible .entry test_axpy_f32(
        	.param .f32 test_axpy_f32_param_0,
        	.param .u64 test_axpy_f32_param_1,
        	.param .u64 test_axpy_f32_param_2,
        	.param .u32 test_axpy_f32_param_3
        )
        {
        	.reg .pred 	%p<3>;
        	.reg .f32 	%f<5>;
        	.reg .b32 	%r<11>;
        	.reg .b64 	%rd<8>;

        	ld.param.f32 	%f1, [test_axpy_f32_param_0];
        	ld.param.u64 	%rd3, [test_axpy_f32_param_1];
        	ld.param.u64 	%rd4, [test_axpy_f32_param_2];
        	ld.param.u32 	%r6, [test_axpy_f32_param_3];
        	mov.u32 	%r1, %ntid.x;
        	mov.u32 	%r7, %ctaid.x;
        	mov.u32 	%r8, %tid.x;
        	mad.lo.s32 	%r10, %r7, %r1, %r8;
        	setp.ge.s32 	%p1, %r10, %r6;
        	@%p1 bra 	$L__BB0_3;

        	mov.u32 	%r9, %nctaid.x;
        	mul.lo.s32 	%r3, %r9, %r1;
        	cvta.to.global.u64 	%rd1, %rd3;
        	cvta.to.global.u64 	%rd2, %rd4;

        $L__BB0_2:
        	mul.wide.s32 	%rd5, %r10, 4;
        	add.s64 	%rd6, %rd1, %rd5;
        	ld.global.nc.f32 	%f2, [%rd6];
        	add.s64 	%rd7, %rd2, %rd5;
        	ld.global.f32 	%f3, [%rd7];
        	fma.rn.f32 	%f4, %f2, %f1, %f3;
        	st.global.f32 	[%rd7], %f4;
        	add.s32 	%r10, %r10, %r3;
        	setp.lt.s32 	%p2, %r10, %r6;
        	@%p2 bra 	$L__BB0_2;

        $L__BB0_3:
        	ret;
        }
        """;

    private CudaDevice _device = null!;
    private CudaStream _stream = null!;
    private DeviceAllocator _allocator = null!;
    private HostTransfer _transfer = null!;

    [SetUp]
    public void Open()
    {
        GpuAvailability.Require();
        _device = CudaDevice.Open(0);
        _stream = CudaStream.Create(_device);
        _allocator = new DeviceAllocator(_stream);
        _transfer = new HostTransfer(_stream);
    }

    [TearDown]
    public void Close()
    {
        if (GpuAvailability.Reason() is not null) return;
        _transfer.Dispose();
        _allocator.Dispose();
        _stream.Dispose();
        _device.Dispose();
    }

    [Test]
    public void DeviceReportsPlausibleProperties()
    {
        Assert.That(_device.Info.Name, Is.Not.Empty);
        Assert.That(_device.Info.Multiprocessors, Is.GreaterThan(0));
        Assert.That(_device.Info.ComputeMajor, Is.GreaterThanOrEqualTo(5));
        var (free, total) = _device.MemoryInfo();
        Assert.That(total, Is.EqualTo(_device.Info.TotalMemoryBytes).Within(total / 10));
        Assert.That(free, Is.InRange(1, total));
    }

    [Test]
    public void UploadDownloadRoundTripsAcrossChunks()
    {
        var data = Enumerable.Range(0, 5_000_000).Select(i => (float)Math.Sin(i)).ToArray(); // 20 MB: two chunks
        var p = _allocator.Allocate(data.Length * 4L, out var block);
        _transfer.Upload<float>(p, data);
        var back = new float[data.Length];
        _transfer.Download<float>(p, back);
        _allocator.Free(p, block);
        Assert.That(back, Is.EqualTo(data));
    }

    [Test]
    public void DoublesAreStoredAsFloats()
    {
        double[] data = [1.0 / 3, -2.5, 1e-8];
        var p = _allocator.Allocate(12, out var block);
        _transfer.UploadAsFloat(p, data);
        var f = new float[3];
        _transfer.Download<float>(p, f);
        var d = new double[3];
        _transfer.DownloadAsDouble(p, d);
        _allocator.Free(p, block);
        Assert.That(f, Is.EqualTo(data.Select(x => (float)x).ToArray()));
        Assert.That(d, Is.EqualTo(data.Select(x => (double)(float)x).ToArray()));
    }

    [Test]
    public void FreedBlocksAreReusedWithoutNewDriverMemory()
    {
        var a = _allocator.Allocate(1000, out var blockA);
        _allocator.Free(a, blockA);
        var b = _allocator.Allocate(990, out var blockB);
        Assert.That(b, Is.EqualTo(a));
        Assert.That(blockB, Is.EqualTo(blockA));
        Assert.That(_allocator.BytesCached, Is.Zero);
        _allocator.Free(b, blockB);
    }

    [Test]
    public void LaunchRunsAKernelWithScalarAndPointerArguments()
    {
        GpuAvailability.RequireRealGpu("runs its own PTX");
        const int n = 100_003;
        var x = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        var y = Enumerable.Range(0, n).Select(i => 1f).ToArray();
        using var module = PtxModule.Load("axpy", Encoding.ASCII.GetBytes(AxpyPtx));
        var fn = module.Function("test_axpy_f32");
        var px = _allocator.Allocate(n * 4L, out var bx);
        var py = _allocator.Allocate(n * 4L, out var by);
        _transfer.Upload<float>(px, x);
        _transfer.Upload<float>(py, y);

        var args = new KernelArgs();
        args.Add(2f);
        args.Add(px);
        args.Add(py);
        args.Add(n);
        _stream.Launch(fn, 64u, 256u, ref args);

        var result = new float[n];
        _transfer.Download<float>(py, result);
        _allocator.Free(px, bx);
        _allocator.Free(py, by);
        Assert.That(result, Is.EqualTo(x.Select(v => 2 * v + 1).ToArray()));
    }

    [Test]
    public void CapturedGraphReplaysTheLaunch()
    {
        GpuAvailability.RequireRealGpu("runs its own PTX");
        const int n = 1000;
        using var module = PtxModule.Load("axpy", Encoding.ASCII.GetBytes(AxpyPtx));
        var fn = module.Function("test_axpy_f32");
        var px = _allocator.Allocate(n * 4L, out var bx);
        var py = _allocator.Allocate(n * 4L, out var by);
        _stream.Fill32(px, BitConverter.SingleToUInt32Bits(1f), n);
        _stream.Fill32(py, 0, n);
        _stream.Synchronize();

        _stream.BeginCapture();
        var args = new KernelArgs();
        args.Add(3f);
        args.Add(px);
        args.Add(py);
        args.Add(n);
        _stream.Launch(fn, 4u, 256u, ref args);
        using var graph = _stream.EndCapture();
        graph.Launch(_stream);
        graph.Launch(_stream);

        var result = new float[n];
        _transfer.Download<float>(py, result);
        _allocator.Free(px, bx);
        _allocator.Free(py, by);
        Assert.That(result, Is.All.EqualTo(6f));
    }

    [Test]
    public void EventsMeasureElapsedTime()
    {
        using var start = new CudaEvent();
        using var end = new CudaEvent();
        var p = _allocator.Allocate(64L << 20, out var block);
        start.Record(_stream);
        _stream.Fill32(p, 0, (64L << 20) / 4);
        end.Record(_stream);
        var ms = CudaEvent.ElapsedMs(start, end);
        _allocator.Free(p, block);
        Assert.That(ms, Is.GreaterThan(0f).And.LessThan(10_000f));
    }

    [Test]
    public void BadPtxFailsWithTheJitLog()
    {
        GpuAvailability.RequireRealGpu("runs its own PTX");
        const string bad = ".version 7.8\n.target sm_60\n.address_size 64\n.visible .entry broken()\n{\n\tnot_an_instruction;\n}\n";
        var e = Assert.Throws<CudaException>(() => PtxModule.Load("broken.ptx", Encoding.ASCII.GetBytes(bad)))!;
        Assert.That(e.Call, Does.Contain("broken.ptx"));
        Assert.That(e.ErrorName, Is.EqualTo("CUDA_ERROR_INVALID_PTX"));
        Assert.That(e.Message, Does.Contain("JIT log"));
    }

    [Test]
    public void MissingKernelNameIsNamedInTheError()
    {
        using var module = PtxModule.Load("axpy", Encoding.ASCII.GetBytes(AxpyPtx));
        var e = Assert.Throws<CudaException>(() => module.Function("no_such_kernel"))!;
        Assert.That(e.ErrorName, Is.EqualTo("CUDA_ERROR_NOT_FOUND"));
        Assert.That(e.Message, Does.Contain("no_such_kernel"));
    }

    [Test]
    public void MathLibrariesReportVersions()
    {
        Assert.That(LibraryVersions.Cublas(), Does.Match(@"^\d+\.\d+\.\d+$"));
        if (!NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"cuDNN missing: {why}");
        Assert.That(LibraryVersions.Cudnn(), Does.Match(@"^9\.\d+\.\d+$"));
    }
}
