using Engine.Cuda;
using Engine.Graph;

namespace Engine.Tests.Cuda;

/// <summary>The precision of a CUDA backend: resolved from the device when not asked for; what the GPU cannot run refused in one line.</summary>
public class CudaPrecisionTests
{
    [TestCase(Precision.Bf16, "bf16 runs on the CPU reference only for now")]
    [TestCase(Precision.Fp64, "fp64 is the CPU backend's")]
    public void What_the_gpu_cannot_run_is_refused_before_any_device_is_opened(Precision precision, string message)
    {
        var e = Assert.Throws<PrecisionNotSupportedException>(() => CudaBackend.Create(0, new CudaOptions { Precision = precision }))!;
        Assert.That(e.Message, Does.StartWith(message).And.Not.Contain("\n"));
    }

    [Test]
    public void The_default_is_fp32_until_the_gpu_bf16_path_is_built()
    {
        static CudaDeviceInfo Device(int major) => new(0, "test", 1, major, 0, 1L << 30, true);
        Assert.That(CudaBackend.DefaultPrecision(Device(7)), Is.EqualTo(Precision.Fp32), "no bf16 tensor cores before compute capability 8.0");
        Assert.That(CudaBackend.DefaultPrecision(Device(9)), Is.EqualTo(CudaBackend.Bf16Built ? Precision.Bf16 : Precision.Fp32));
    }

    [Test, Category("Gpu")]
    public void The_backend_reports_the_precision_it_resolved_and_tf32_reaches_cublas_and_cudnn()
    {
        GpuAvailability.Require();
        using (var plain = CudaBackend.Create(0))
        {
            Assert.That(plain.Precision, Is.EqualTo(CudaBackend.DefaultPrecision(plain.Device.Info)));
            Assert.That(plain.Options.Tf32, Is.EqualTo(plain.Precision == Precision.Tf32));
        }
        using var tf32 = CudaBackend.Create(0, new CudaOptions { Precision = Precision.Tf32 });
        Assert.That((tf32.Precision, tf32.Options.Tf32), Is.EqualTo((Precision.Tf32, true)));
        Assert.That(tf32.Blas, Is.Not.Null, "cuBLAS accepts the TF32 math mode");
    }
}
