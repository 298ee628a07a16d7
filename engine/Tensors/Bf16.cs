using System.Numerics;
using System.Runtime.InteropServices;

namespace Engine.Tensors;

/// <summary>
/// Rounding float32 to bfloat16 (the upper 16 bits of a float32), kept in float storage: the CPU
/// backend's emulated bf16. Round to nearest, ties to even, on the bits, which is right for every
/// finite value including subnormals (float order is bit order within a sign); values past bf16's
/// largest finite value (3.3895314e38) by half an ulp or more become infinity, as in PyTorch.
/// A NaN stays a NaN: its sign and upper payload bits are kept and the quiet bit set, since
/// truncating a NaN whose payload lies only in the low 16 bits would give infinity.
/// </summary>
public static class Bf16
{
    private const uint QuietBit = 0x0040_0000;

    public static float Round(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) return BitConverter.UInt32BitsToSingle((bits | QuietBit) & 0xFFFF_0000);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF_0000);
    }

    /// <summary>Whether <paramref name="x"/> is a bf16 value (its low 16 bits are zero).</summary>
    public static bool IsRepresentable(float x) => (BitConverter.SingleToUInt32Bits(x) & 0xFFFF) == 0;

    /// <summary>Rounds every element in place (<see cref="Round(float)"/>).</summary>
    public static void Round(Span<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vectors = MemoryMarshal.Cast<uint, Vector<uint>>(bits);
            var absMask = new Vector<uint>(0x7FFF_FFFF);
            var inf = new Vector<uint>(0x7F80_0000);
            var high = new Vector<uint>(0xFFFF_0000);
            var quiet = new Vector<uint>(QuietBit);
            var bias = new Vector<uint>(0x7FFF);
            var one = Vector<uint>.One;
            for (int v = 0; v < vectors.Length; v++)
            {
                var b = vectors[v];
                var rounded = (b + bias + ((b >> 16) & one)) & high;
                var nan = Vector.GreaterThan(b & absMask, inf);
                vectors[v] = Vector.ConditionalSelect(nan, (b | quiet) & high, rounded);
            }
            i = vectors.Length * Vector<uint>.Count;
        }
        for (; i < values.Length; i++) values[i] = Round(values[i]);
    }

    /// <summary>Rounds <paramref name="perSample"/> elements of each of <paramref name="samples"/> blocks, <paramref name="stride"/> elements apart (a channel slice of a concatenation).</summary>
    public static void Round(Span<float> values, int samples, long perSample, long stride)
    {
        if (stride == perSample || samples == 1) { Round(values[..(int)((samples - 1) * stride + perSample)]); return; }
        for (int s = 0; s < samples; s++) Round(values.Slice((int)(s * stride), (int)perSample));
    }
}
