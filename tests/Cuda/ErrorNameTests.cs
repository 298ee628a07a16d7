using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>Error codes become the libraries' symbolic names, with the failing call in the message.</summary>
public class ErrorNameTests
{
    private static readonly int[] DriverCodes = [1, 2, 3, 100, 101, 200, 209, 218, 222, 400, 500, 700, 719, 801, 999];
    private static readonly int[] CublasCodes = [1, 3, 7, 8, 11, 13, 14, 15];

    [Test]
    public void DriverTableNamesTheCodesTheDesignRelieson()
    {
        Assert.That(ErrorNames.ForDriver(100), Is.EqualTo("CUDA_ERROR_NO_DEVICE"));
        Assert.That(ErrorNames.ForDriver(2), Is.EqualTo("CUDA_ERROR_OUT_OF_MEMORY"));
        Assert.That(ErrorNames.ForDriver(209), Is.EqualTo("CUDA_ERROR_NO_BINARY_FOR_GPU"));
        Assert.That(ErrorNames.ForDriver(218), Is.EqualTo("CUDA_ERROR_INVALID_PTX"));
        Assert.That(ErrorNames.ForDriver(222), Is.EqualTo("CUDA_ERROR_UNSUPPORTED_PTX_VERSION"));
        Assert.That(ErrorNames.ForDriver(500), Is.EqualTo("CUDA_ERROR_NOT_FOUND"));
        Assert.That(ErrorNames.ForDriver(4242), Is.EqualTo("CUDA_ERROR_4242"));
    }

    [Test]
    public void DriverTableAgreesWithTheDriversOwnNames()
    {
        if (!NativeLibraries.TryLoadDriver(out var why)) Assert.Ignore($"no CUDA driver library: {why}");
        foreach (var code in DriverCodes)
            Assert.That(Driver.ErrorName((CuResult)code), Is.EqualTo(ErrorNames.ForDriver(code)), $"code {code}");
    }

    [Test]
    public void CublasTableAgreesWithCublasOwnNames()
    {
        if (!NativeLibraries.TryLoadCublas(out var why)) Assert.Ignore($"no cuBLAS: {why}");
        foreach (var code in CublasCodes)
            Assert.That(Cublas.StatusName(code), Is.EqualTo(ErrorNames.ForCublas(code)), $"status {code}");
    }

    [Test]
    public void CudnnCodesOutsideTheTableAreNamedByTheirCategory()
    {
        Assert.That(ErrorNames.ForCudnn(2000), Is.EqualTo("CUDNN_STATUS_BAD_PARAM"));
        Assert.That(ErrorNames.ForCudnn(1001), Is.EqualTo("CUDNN_STATUS_NOT_INITIALIZED"));
        Assert.That(ErrorNames.ForCudnn(2007), Does.StartWith("CUDNN_STATUS_BAD_PARAM").And.Contains("2007"));
        Assert.That(ErrorNames.ForCudnn(3005), Does.StartWith("CUDNN_STATUS_NOT_SUPPORTED"));
        Assert.That(ErrorNames.ForCudnn(5003), Does.StartWith("CUDNN_STATUS_EXECUTION_FAILED"));
        Assert.That(ErrorNames.ForCudnn(77), Is.EqualTo("CUDNN_STATUS_77"));
    }

    [Test]
    public void CheckThrowsWithTheCallAndTheErrorName()
    {
        var e = Assert.Throws<CudaException>(() => Driver.Check(CuResult.NoDevice, "cuInit"))!;
        Assert.That(e.Call, Is.EqualTo("cuInit"));
        Assert.That(e.ErrorName, Is.EqualTo("CUDA_ERROR_NO_DEVICE"));
        Assert.That(e.Code, Is.EqualTo(100));
        Assert.That(e.Message, Does.StartWith("cuInit failed: CUDA_ERROR_NO_DEVICE (100)"));

        var b = Assert.Throws<CudaException>(() => Cublas.Check(7, "cublasGemmEx"))!;
        Assert.That(b.Message, Does.StartWith("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7)"));
        Assert.DoesNotThrow(() => Driver.Check(CuResult.Success, "cuInit"));
        Assert.DoesNotThrow(() => Cublas.Check(0, "cublasGemmEx"));
    }
}
