using Engine.Cuda;

namespace Engine.Tests.Cuda;

public class DeviceAllocatorTests
{
    [Test]
    public void SizeClassesCoverTheRequestAndWasteAtMostAQuarter()
    {
        long previous = 0;
        foreach (var bytes in Sizes())
        {
            var c = DeviceAllocator.SizeClass(bytes);
            Assert.That(c, Is.GreaterThanOrEqualTo(Math.Max(bytes, DeviceAllocator.MinBlock)), $"{bytes}");
            if (bytes > DeviceAllocator.MinBlock) Assert.That(c, Is.LessThanOrEqualTo(bytes * 5 / 4 + 1), $"{bytes}");
            Assert.That(c % 128, Is.Zero, $"{bytes}: blocks keep 128-byte alignment");
            Assert.That(c, Is.GreaterThanOrEqualTo(previous), "classes grow with the request");
            previous = c;
        }
    }

    [Test]
    public void NearbySizesShareAClassSoBlocksAreReused()
    {
        Assert.That(DeviceAllocator.SizeClass(1), Is.EqualTo(DeviceAllocator.SizeClass(512)));
        Assert.That(DeviceAllocator.SizeClass(1_000_001), Is.EqualTo(DeviceAllocator.SizeClass(1_000_100)));
        Assert.That(DeviceAllocator.SizeClass(1 << 20), Is.EqualTo(1 << 20));
        Assert.That(DeviceAllocator.SizeClass((1 << 20) + 1), Is.EqualTo((1 << 20) + (1 << 18)));
        // An executor's arena is allocated once: rounded to 2 MiB, not to a quarter of its size.
        Assert.That(DeviceAllocator.SizeClass(DeviceAllocator.LargeBlock + 1), Is.EqualTo(DeviceAllocator.LargeBlock + (2 << 20)));
    }

    private static IEnumerable<long> Sizes()
    {
        for (long b = 0; b < 5000; b += 7) yield return b;
        for (long b = 5000; b < 1L << 34; b = b * 9 / 8 + 13) yield return b;
    }
}
