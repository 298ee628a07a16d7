using Engine.Tensors;

namespace Engine.Tests.MixedPrecision;

/// <summary><see cref="Bf16.Round(float)"/> against a reference that rounds by comparing distances in double.</summary>
public class Bf16RoundingTests
{
    /// <summary>
    /// The nearest of the two bf16 values around x (truncation and the next one away from zero,
    /// 2^128 standing in for infinity), ties to the even one; NaN: sign and upper bits kept, quiet.
    /// Distances in double are exact: x, the candidates and their difference all fit 53 bits.
    /// </summary>
    private static uint Reference(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if (float.IsNaN(x)) return (bits | 0x0040_0000) & 0xFFFF_0000;
        if (float.IsInfinity(x)) return bits;
        uint lower = bits & 0xFFFF_0000;
        int exponent = (int)((bits >> 23) & 0xFF);
        double ulp = Math.ScaleB(1.0, Math.Max(exponent, 1) - 127 - 7);
        double below = Math.Abs(x) - Math.Abs((double)BitConverter.UInt32BitsToSingle(lower));
        bool up = below > ulp / 2 || (below == ulp / 2 && ((lower >> 16) & 1) == 1);
        return up ? lower + 0x1_0000 : lower;
    }

    private static uint Bits(float x) => BitConverter.SingleToUInt32Bits(Bf16.Round(x));

    [TestCase(1.0f, 1.0f)]
    [TestCase(1.00390625f, 1.0f)]          // 1 + 2^-8: the tie between 1 and 1 + 2^-7 goes to 1 (even)
    [TestCase(1.01171875f, 1.015625f)]     // 1 + 3 * 2^-8: the tie between 1 + 2^-7 and 1 + 2^-6 goes up (even)
    [TestCase(1.0039064f, 1.0078125f)]     // one float ulp above the tie: up
    [TestCase(-1.00390625f, -1.0f)]
    [TestCase(3.3895314e38f, 3.3895314e38f)]  // bf16's largest finite value
    [TestCase(float.MaxValue, float.PositiveInfinity)]
    [TestCase(-float.MaxValue, float.NegativeInfinity)]
    [TestCase(float.PositiveInfinity, float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity, float.NegativeInfinity)]
    [TestCase(0f, 0f)]
    [TestCase(-0f, -0f)]
    public void Rounds_to_nearest_even(float x, float expected)
    {
        Assert.That(BitConverter.SingleToUInt32Bits(Bf16.Round(x)), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected)), $"{x:R}");
        Assert.That(Bits(x), Is.EqualTo(Reference(x)));
    }

    [Test]
    public void Near_the_largest_finite_value_half_an_ulp_or_more_overflows()
    {
        Assert.That(Bits(BitConverter.UInt32BitsToSingle(0x7F7F_7FFF)), Is.EqualTo(0x7F7F_0000u), "below the tie: the largest finite value");
        Assert.That(Bits(BitConverter.UInt32BitsToSingle(0x7F7F_8000)), Is.EqualTo(0x7F80_0000u), "the tie goes to the even neighbour, infinity");
        Assert.That(Bits(BitConverter.UInt32BitsToSingle(0x7F7E_8000)), Is.EqualTo(0x7F7E_0000u), "a tie below an odd neighbour stays down");
    }

    [Test]
    public void Subnormals_round_on_their_bits_and_the_largest_rounds_into_the_normals()
    {
        foreach (uint b in new uint[] { 0x0000_0001, 0x0000_7FFF, 0x0000_8000, 0x0001_8000, 0x0000_8001, 0x007F_FFFF, 0x007F_7FFF, 0x807F_8000 })
        {
            float x = BitConverter.UInt32BitsToSingle(b);
            Assert.That(Bits(x), Is.EqualTo(Reference(x)), $"0x{b:X8}");
        }
        Assert.That(Bits(BitConverter.UInt32BitsToSingle(0x007F_FFFF)), Is.EqualTo(0x0080_0000u), "the largest subnormal rounds up to the smallest normal");
        Assert.That(Bits(BitConverter.UInt32BitsToSingle(0x0000_8000)), Is.EqualTo(0u), "a tie at the smallest bf16 subnormal's half goes to zero");
    }

    [Test]
    public void NaN_stays_NaN_even_when_its_payload_is_only_in_the_low_bits()
    {
        foreach (uint b in new uint[] { 0x7FC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FFF_FFFF, 0x7F80_FFFF })
        {
            float r = Bf16.Round(BitConverter.UInt32BitsToSingle(b));
            Assert.That(float.IsNaN(r) && Bf16.IsRepresentable(r), $"0x{b:X8} -> 0x{BitConverter.SingleToUInt32Bits(r):X8}");
            Assert.That(BitConverter.SingleToUInt32Bits(r) >> 31, Is.EqualTo(b >> 31), "sign kept");
        }
    }

    /// <summary>Every 2^32 / 2^20-th bit pattern and the patterns around every rounding boundary of a spread of exponents, through the vector path and the scalar one.</summary>
    [Test]
    public void Agrees_with_the_reference_bit_for_bit_across_the_range()
    {
        var patterns = new List<uint>();
        for (ulong b = 0; b <= uint.MaxValue; b += 4093) patterns.Add((uint)b);
        for (uint top = 0; top < 0x1_0000; top += 97)
            foreach (uint low in new uint[] { 0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF })
                patterns.Add(top << 16 | low);
        var values = patterns.Select(BitConverter.UInt32BitsToSingle).ToArray();
        var rounded = (float[])values.Clone();
        Bf16.Round(rounded);
        int mismatches = 0;
        for (int i = 0; i < values.Length && mismatches < 10; i++)
        {
            uint expected = Reference(values[i]);
            if (Bits(values[i]) != expected || BitConverter.SingleToUInt32Bits(rounded[i]) != expected)
            {
                mismatches++;
                TestContext.Out.WriteLine($"0x{patterns[i]:X8}: scalar 0x{Bits(values[i]):X8}, span 0x{BitConverter.SingleToUInt32Bits(rounded[i]):X8}, reference 0x{expected:X8}");
            }
        }
        Assert.That(mismatches, Is.Zero);
        Assert.That(values.Length, Is.GreaterThan(1_000_000));
    }

    [Test]
    public void Strided_rounding_touches_only_each_samples_block()
    {
        var values = Enumerable.Range(0, 10).Select(i => 1 + i / 1000f).ToArray();
        Bf16.Round(values, samples: 2, perSample: 2, stride: 5);
        Assert.That(new[] { 0, 1, 5, 6 }.All(i => Bf16.IsRepresentable(values[i])));
        Assert.That(new[] { 2, 3, 4, 7, 8, 9 }.All(i => values[i] == 1 + i / 1000f));
    }
}
