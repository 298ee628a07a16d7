using System.Numerics;
using Engine.Tensors;

namespace Engine.Graph;

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
    /// As <see cref="Initialize{T}(Span{T}, ulong)"/>, a chunk of at most <paramref name="chunk"/>
    /// values at a time handed to <paramref name="write"/>(offset, values), so the whole layout is
    /// never held in memory twice (the same numbers: each value is one draw, in layout order).
    /// </summary>
    public void Initialize(ulong seed, int chunk, Action<long, ReadOnlySpan<double>> write)
    {
        var rng = new Rng(seed);
        var buffer = new double[(int)Math.Min(chunk, Math.Max(1, _views.Count == 0 ? 1 : _views.Max(v => v.Count)))];
        foreach (var v in _views)
            for (long done = 0; done < v.Count; done += buffer.Length)
            {
                var part = buffer.AsSpan(0, (int)Math.Min(buffer.Length, v.Count - done));
                Fill(v, part, rng);
                write(v.Offset + done, part);
            }
    }

    /// <summary>Fills <paramref name="s"/> (all or a consecutive part of view <paramref name="v"/>) by the view's initialiser.</summary>
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
