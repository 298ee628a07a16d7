using System.Numerics;

namespace Engine.Graph;

/// <summary>Host arrays of a CPU backend.</summary>
public sealed class CpuBuffer<T> : Buffer where T : unmanaged
{
    public CpuBuffer(long count)
    {
        if (count > Array.MaxLength) throw new OutOfMemoryException($"CPU buffer of {count} elements is larger than an array can be");
        Data = new T[count];
        Count = count;
        IsInt = typeof(T) == typeof(int);
    }
    public T[] Data { get; }
    public Span<T> Span(BufferSlice s) => Data.AsSpan((int)s.Offset, (int)s.Count);
}

/// <summary>The reference backend: plain loops in float or double precision.</summary>
public sealed partial class CpuBackend<T> : Backend where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => $"cpu ({typeof(T).Name.ToLowerInvariant()})";
    public override bool IsDouble => typeof(T) == typeof(double);

    public override Buffer Allocate(long count, bool isInt) => isInt ? new CpuBuffer<int>(count) : new CpuBuffer<T>(count);

    public override void Zero(BufferSlice s)
    {
        if (s.Buffer is CpuBuffer<int> bi) bi.Span(s).Clear();
        else F(s).Clear();
    }

    public override void Upload(BufferSlice dst, ReadOnlySpan<double> src)
    {
        var d = F(dst);
        Check(src.Length, d.Length);
        for (int i = 0; i < d.Length; i++) d[i] = T.CreateTruncating(src[i]);
    }

    public override void Upload(BufferSlice dst, ReadOnlySpan<float> src)
    {
        var d = F(dst);
        Check(src.Length, d.Length);
        for (int i = 0; i < d.Length; i++) d[i] = T.CreateTruncating(src[i]);
    }

    public override void Upload(BufferSlice dst, ReadOnlySpan<int> src)
    {
        var d = I(dst);
        Check(src.Length, d.Length);
        src.CopyTo(d);
    }

    public override void Download(BufferSlice src, Span<double> dst)
    {
        var s = F(src);
        Check(s.Length, dst.Length);
        for (int i = 0; i < s.Length; i++) dst[i] = double.CreateTruncating(s[i]);
    }

    public override void Download(BufferSlice src, Span<float> dst)
    {
        var s = F(src);
        Check(s.Length, dst.Length);
        for (int i = 0; i < s.Length; i++) dst[i] = float.CreateTruncating(s[i]);
    }

    public override void Download(BufferSlice src, Span<int> dst)
    {
        var s = I(src);
        Check(s.Length, dst.Length);
        s.CopyTo(dst);
    }

    public override void Copy(BufferSlice dst, BufferSlice src)
    {
        if (src.Buffer is CpuBuffer<int>) I(src).CopyTo(I(dst));
        else F(src).CopyTo(F(dst));
    }

    public override void Forward(NodeRun run) => Node(run).Forward();
    public override void Backward(NodeRun run) => Node(run).Backward();

    private static CpuNode<T> Node(NodeRun run) => (CpuNode<T>)(run.BackendState ??= new CpuNode<T>(run));
    internal static Span<T> F(BufferSlice s) => ((CpuBuffer<T>)s.Buffer).Span(s);
    internal static Span<int> I(BufferSlice s) => ((CpuBuffer<int>)s.Buffer).Span(s);

    private static void Check(int from, int to)
    {
        if (from != to) throw new ArgumentException($"copy of {from} elements into a slice of {to}");
    }
}
