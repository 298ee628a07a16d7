using System.Numerics;
using Engine.Tensors;

namespace Engine.Graph;

/// <summary>Receives the values of <paramref name="view"/> from element <paramref name="offset"/> on.</summary>
public delegate void ViewChunk<T>(ParamView view, long offset, ReadOnlySpan<T> values);

/// <summary>
/// All of a graph's parameters (or its non-trainable states) laid out back to back in one
/// contiguous buffer, each reachable by its dotted name (e.g. "stage4.osa2.conv3.weight").
/// </summary>
public sealed class ParameterLayout
{
    private readonly List<ParamView> _views = [];
    private readonly Dictionary<string, ParamView> _byName = [];

    public IReadOnlyList<ParamView> Views => _views;
    public long Count { get; private set; }

    public ParamView this[string name] => _byName.TryGetValue(name, out var v) ? v
        : throw new KeyNotFoundException($"no parameter named '{name}'");

    public bool Contains(string name) => _byName.ContainsKey(name);

    internal ParamView Add(string name, ParamSpec spec)
    {
        if (_byName.ContainsKey(name)) throw new ArgumentException($"parameter '{name}' declared twice");
        var v = new ParamView(name, spec.Shape, Count, spec.Init, spec.WeightDecay);
        _views.Add(v);
        _byName[name] = v;
        Count += spec.Shape.Numel;
        return v;
    }

    /// <summary>Fills every view by its initialiser, drawing from one generator in layout order.</summary>
    public void Initialize<T>(Span<T> values, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        foreach (var v in _views) Fill(v, values.Slice((int)v.Offset, (int)v.Count), rng);
    }

    /// <summary>
    /// The same values as <see cref="Initialize{T}(Span{T}, ulong)"/>, handed to <paramref name="each"/>
    /// a chunk of at most a million values at a time (the generator draws element by element, so
    /// chunks change nothing), so that no array of the whole layout, or of a large view, is needed.
    /// </summary>
    public void Initialize<T>(ulong seed, ViewChunk<T> each) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Chunk = 1 << 20;
        var rng = new Rng(seed);
        var buffer = new T[Math.Min(Chunk, _views.Count == 0 ? 1 : _views.Max(v => v.Count))];
        foreach (var v in _views)
            for (long offset = 0; offset < v.Count; offset += Chunk)
            {
                var values = buffer.AsSpan(0, (int)Math.Min(Chunk, v.Count - offset));
                Fill(v, values, rng);
                each(v, offset, values);
            }
    }

    private static void Fill<T>(ParamView v, Span<T> s, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (v.Init.Kind)
        {
            case InitKind.Zeros: s.Clear(); break;
            case InitKind.Ones: s.Fill(T.One); break;
            case InitKind.HeNormal:
            {
                double std = Math.Sqrt(2.0 / v.Init.FanIn);
                for (int i = 0; i < s.Length; i++) s[i] = T.CreateChecked(rng.NextNormal() * std);
                break;
            }
            case InitKind.Glorot:
            {
                double b = Math.Sqrt(6.0 / (v.Init.FanIn + v.Init.FanOut));
                for (int i = 0; i < s.Length; i++) s[i] = T.CreateChecked(rng.NextUniform(-b, b));
                break;
            }
            case InitKind.Uniform:
                for (int i = 0; i < s.Length; i++) s[i] = T.CreateChecked(rng.NextUniform(-v.Init.Bound, v.Init.Bound));
                break;
        }
    }
}
