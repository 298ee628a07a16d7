using Engine.Cuda;
using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

public class ConvAlgorithmPickTests
{
    private static ConvolutionAlgoPerf Perf(int algo, int status = 0, long memory = 0, int determinism = 1) =>
        new() { Algo = algo, Status = status, Memory = (nuint)memory, Determinism = determinism };

    [Test]
    public void TakesTheFirstUsableInCudnnsOrder()
    {
        ConvolutionAlgoPerf[] r = [Perf(6, status: 3000), Perf(1, memory: 1 << 20), Perf(0)];
        Assert.That(ConvAlgorithmCache.Pick(r, 1 << 30, deterministic: true), Is.EqualTo(1));
    }

    [Test]
    public void SkipsAlgorithmsNeedingMoreWorkspaceThanAllowed()
    {
        ConvolutionAlgoPerf[] r = [Perf(5, memory: 2L << 30), Perf(2, memory: 100)];
        Assert.That(ConvAlgorithmCache.Pick(r, 1 << 30, deterministic: true), Is.EqualTo(1));
    }

    [Test]
    public void PrefersDeterministicAlgorithmsWhenAsked()
    {
        ConvolutionAlgoPerf[] r = [Perf(0, determinism: 0), Perf(1, determinism: 1)];
        Assert.That(ConvAlgorithmCache.Pick(r, 1 << 30, deterministic: true), Is.EqualTo(1));
        Assert.That(ConvAlgorithmCache.Pick(r, 1 << 30, deterministic: false), Is.EqualTo(0));
    }

    [Test]
    public void FallsBackToANonDeterministicOneRatherThanNone()
    {
        ConvolutionAlgoPerf[] r = [Perf(3, status: 3000), Perf(0, determinism: 0)];
        Assert.That(ConvAlgorithmCache.Pick(r, 1 << 30, deterministic: true), Is.EqualTo(1));
        Assert.That(ConvAlgorithmCache.Pick([Perf(3, status: 3000)], 1 << 30, deterministic: true), Is.EqualTo(-1));
    }

    [Test]
    public unsafe void PerfStructHasCudnnsLayout()
    {
        // { int algo; int status; float time; size_t memory; int determinism; int mathType; int reserved[3]; }
        Assert.That(sizeof(ConvolutionAlgoPerf), Is.EqualTo(48));
        var p = new ConvolutionAlgoPerf();
        var bytes = (byte*)&p;
        Assert.That((byte*)&p.Memory - bytes, Is.EqualTo(16));
        Assert.That((byte*)&p.Determinism - bytes, Is.EqualTo(24));
        Assert.That((byte*)&p.MathType - bytes, Is.EqualTo(28));
    }
}
