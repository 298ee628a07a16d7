using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using Engine.Tensors;

namespace Engine.Tests.Kernels;

/// <summary>
/// The dropout mask must be the same bits on CPU and GPU. Rng.HashUniform is checked against
/// the formula documented in kernels/ABI.md, evaluated here independently with arbitrary-
/// precision integers reduced mod 2^64; the kernel's integer threshold test is checked to
/// select exactly the elements HashUniform(...) &gt;= p keeps.
/// </summary>
public class DropoutHashTests
{
    private static readonly BigInteger Two64 = BigInteger.One << 64;

    private const ulong StreamOffset = 0x632BE59BD9B4E019UL;
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const ulong Mul1 = 0xBF58476D1CE4E5B9UL;
    private const ulong Mul2 = 0x94D049BB133111EBUL;

    private static BigInteger Wrap(BigInteger v) => ((v % Two64) + Two64) % Two64;

    private static BigInteger Mix(BigInteger z)
    {
        z = Wrap((z ^ (z >> 30)) * Mul1);
        z = Wrap((z ^ (z >> 27)) * Mul2);
        return z ^ (z >> 31);
    }

    /// <summary>The 24-bit integer u of ABI.md: Mix(seed ^ Mix(stream + C) ^ (index * golden)) >> 40.</summary>
    private static uint Reference24(ulong seed, ulong stream, ulong index) =>
        (uint)(Mix(new BigInteger(seed) ^ Mix(Wrap(new BigInteger(stream) + StreamOffset)) ^ Wrap(new BigInteger(index) * Golden)) >> 40);

    private static IEnumerable<(ulong Seed, ulong Stream, ulong Index)> Table()
    {
        ulong[] seeds = [0, 1, 42, 0xDEADBEEFUL, ulong.MaxValue];
        ulong[] streams = [0, 1, (7UL << 32) + 3, ulong.MaxValue];
        ulong[] indices = [0, 1, 2, 3, 1000, (1UL << 31) + 5, ulong.MaxValue];
        foreach (var s in seeds) foreach (var t in streams) foreach (var i in indices) yield return (s, t, i);
    }

    [Test]
    public void HashUniform_is_the_documented_splitmix_formula_with_24_bits()
    {
        foreach (var (seed, stream, index) in Table())
        {
            double expected = Reference24(seed, stream, index) / 16777216.0;
            Assert.That(Rng.HashUniform(seed, stream, index), Is.EqualTo(expected), $"seed {seed}, stream {stream}, index {index}");
        }
    }

    [Test]
    public void Reference_formula_spreads_over_the_unit_interval()
    {
        // Guards the reference itself: a broken Mix (e.g. all zeros) would make the table test vacuous.
        var values = Enumerable.Range(0, 4096).Select(i => Reference24(7, 11, (ulong)i) / 16777216.0).ToArray();
        Assert.That(values.Distinct().Count(), Is.GreaterThan(4000));
        Assert.That(values.Average(), Is.EqualTo(0.5).Within(0.03));
        Assert.That(values.Count(v => v < 0.25), Is.InRange(900, 1150));
    }

    [TestCase(0.0)]
    [TestCase(0.1)]
    [TestCase(0.2)]
    [TestCase(0.3)]
    [TestCase(0.5)]
    [TestCase(0.7)]
    [TestCase(1.0 / 3)]
    [TestCase(0.999999)]
    public void Kernel_threshold_keeps_exactly_what_the_cpu_test_keeps(double p)
    {
        uint threshold = (uint)Math.Ceiling(p * 16777216.0);
        for (ulong i = 0; i < 20000; i++)
        {
            uint u = (uint)(Rng.HashUniform(3, 5, i) * 16777216.0);
            Assert.That(u >= threshold, Is.EqualTo(Rng.HashUniform(3, 5, i) >= p), $"p {p}, index {i}, u {u}");
        }
        // Boundary values of u, where a float comparison would go wrong.
        for (uint u = threshold > 2 ? threshold - 2 : 0; u <= Math.Min(threshold + 2, (1u << 24) - 1); u++)
            Assert.That(u >= threshold, Is.EqualTo(u / 16777216.0 >= p), $"p {p}, u {u}");
    }

    [Test]
    public void Kernel_source_uses_the_same_constants()
    {
        var source = File.ReadAllText(Path.Combine(KernelFiles.KernelsDir, "common.cuh"));
        var constants = Regex.Matches(source, @"0x([0-9A-Fa-f]{16})ull")
            .Select(m => ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToHashSet();
        Assert.That(constants, Is.SupersetOf(new[] { StreamOffset, Golden, Mul1, Mul2 }));
        Assert.That(source, Does.Contain(">> 40"), "the 24-bit output is the top 24 bits");
        Assert.That(source, Does.Match(@"z \^ \(z >> 30\).*\n.*z \^ \(z >> 27\).*\n.*z \^ \(z >> 31\)"), "SplitMix64 shifts 30, 27, 31");
    }
}
