using System.Runtime.InteropServices;
using Engine.Cuda;

namespace Engine.Tests.Cuda;

/// <summary>cuLaunchKernel's kernelParams: pointer i must point at argument i's bytes.</summary>
public unsafe class KernelArgsTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Affine { public float Scale; public int Offset; public float Bias; }

    [Test]
    public void EachPointerPointsAtItsArgumentsValue()
    {
        var args = new KernelArgs();
        args.Add(2.5f);
        args.Add(new DevicePtr(0x7f00_1234_5600));
        args.Add(-17);
        args.Add(new Affine { Scale = 0.5f, Offset = 3, Bias = -1.25f });
        args.Add(1L << 40);
        args.Add((byte)9);

        var p = stackalloc void*[args.Count];
        args.FillPointers(p);

        Assert.That(args.Count, Is.EqualTo(6));
        Assert.That(*(float*)p[0], Is.EqualTo(2.5f));
        Assert.That(*(ulong*)p[1], Is.EqualTo(0x7f00_1234_5600UL));
        Assert.That(*(int*)p[2], Is.EqualTo(-17));
        var affine = *(Affine*)p[3];
        Assert.That((affine.Scale, affine.Offset, affine.Bias), Is.EqualTo((0.5f, 3, -1.25f)));
        Assert.That(*(long*)p[4], Is.EqualTo(1L << 40));
        Assert.That(*(byte*)p[5], Is.EqualTo((byte)9));
    }

    [Test]
    public void ArgumentsDoNotOverlapAndStartOnEightByteBoundaries()
    {
        var args = new KernelArgs();
        args.Add(1);
        args.Add(new Affine()); // 12 bytes: two slots
        args.Add(2);

        var p = stackalloc void*[args.Count];
        args.FillPointers(p);

        for (int i = 0; i < args.Count; i++) Assert.That((ulong)p[i] % 8, Is.Zero, $"argument {i}");
        Assert.That((byte*)p[1] - (byte*)p[0], Is.EqualTo(8));
        Assert.That((byte*)p[2] - (byte*)p[1], Is.EqualTo(16));
    }

    [Test]
    public void TooManyArgumentsIsAnError()
    {
        Assert.Throws<InvalidOperationException>(() =>
        {
            var args = new KernelArgs();
            for (int i = 0; i <= KernelArgs.MaxArgs; i++) args.Add(i);
        });
    }

    [Test]
    public void ArgumentsLargerThanTheSlotsAreAnError()
    {
        Assert.Throws<InvalidOperationException>(() =>
        {
            var args = new KernelArgs();
            for (int i = 0; i < KernelArgs.MaxArgs; i++) args.Add(new Affine());
        });
    }
}
