using System.Text;
using Engine.Cuda;

namespace Engine.Tests.Cuda;

public class PtxModuleTests
{
    // The head of what nvcc 11.8 emits (-ptx -arch=compute_60) for two extern "C" kernels.
    private const string TwoKernels = """
        .version 7.8
        .target sm_60
        .address_size 64

        	// .globl	axpy_f32

        .visible .entry axpy_f32(
        	.param .f32 axpy_f32_param_0,
        	.param .u64 axpy_f32_param_1
        )
        {
        	ret;
        }
        	// .globl	affine_struct_f32
        .visible .entry affine_struct_f32(
        	.param .align 4 .b8 affine_struct_f32_param_0[12]
        )
        {
        	ret;
        }
        .func helper_not_an_entry(
        )
        {
        	ret;
        }
        """;

    [Test]
    public void EntryNamesAreTheVisibleEntriesOnly()
    {
        Assert.That(PtxModule.EntryNames(TwoKernels), Is.EqualTo(new[] { "axpy_f32", "affine_struct_f32" }));
    }

    [Test]
    public void ImageGetsExactlyOneTrailingNul()
    {
        var text = Encoding.ASCII.GetBytes(".version 7.8");
        Assert.That(PtxModule.NulTerminated(text), Is.EqualTo(text.Append((byte)0).ToArray()));
        Assert.That(PtxModule.NulTerminated(text.Concat(new byte[] { 0, 0 }).ToArray()), Is.EqualTo(text.Append((byte)0).ToArray()));
    }

    [Test]
    public void CatalogMapsEntriesToTheirFileAndNamesTheFilesWhenOneIsMissing()
    {
        using var catalog = new KernelCatalog([("two.ptx", () => Encoding.UTF8.GetBytes(TwoKernels))]);

        Assert.That(catalog.Contains("axpy_f32"), Is.True);
        Assert.That(catalog.Contains("helper_not_an_entry"), Is.False);
        var e = Assert.Throws<KeyNotFoundException>(() => catalog.Get("mish_fwd_f32"))!;
        Assert.That(e.Message, Does.Contain("mish_fwd_f32").And.Contain("two.ptx"));
    }

    [Test]
    public void EmptyCatalogSaysHowToBuildTheKernels()
    {
        using var catalog = new KernelCatalog([]);
        var e = Assert.Throws<KeyNotFoundException>(() => catalog.Get("mish_fwd_f32"))!;
        Assert.That(e.Message, Does.Contain("build.sh").And.Contain(KernelCatalog.PtxFolderVariable));
    }
}
