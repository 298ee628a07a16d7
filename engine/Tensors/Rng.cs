namespace Engine.Tensors;

/// <summary>
/// A small, seeded, platform-independent generator (SplitMix64). Used for init, dropout,
/// shuffling and augmentation so that a seed reproduces a run exactly on every machine.
/// </summary>
public sealed class Rng
{
    private ulong _state;
    private double? _spareNormal;

    public Rng(ulong seed) { _state = seed; }

    /// <summary>The full generator state, for checkpoints.</summary>
    public (ulong State, double? Spare) Save() => (_state, _spareNormal);
    public void Restore((ulong State, double? Spare) s) { _state = s.State; _spareNormal = s.Spare; }

    public ulong NextU64() => Mix(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextU64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((NextU64() >> 33) % (ulong)n);

    public double NextUniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Standard normal by Box-Muller.</summary>
    public double NextNormal()
    {
        if (_spareNormal is double s) { _spareNormal = null; return s; }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)(NextU64() % (ulong)(i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Stateless hash of (seed, stream, index) to [0, 1): the same on CPU and GPU, so a dropout mask can be reproduced anywhere.</summary>
    public static double HashUniform(ulong seed, ulong stream, ulong index)
        => (Mix(seed ^ Mix(stream + 0x632BE59BD9B4E019UL) ^ (index * 0x9E3779B97F4A7C15UL)) >> 40) * (1.0 / (1UL << 24));

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
