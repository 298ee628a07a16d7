using System.Numerics;
using System.Runtime.InteropServices;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Graph;

/// <summary>Host memory of a CPU backend: 64-byte aligned native memory, so one arena can hold tensors of several element types.</summary>
public sealed unsafe class CpuBuffer : Buffer
{
    private byte* _data;

    public CpuBuffer(long count, DataType type)
    {
        Type = type;
        Bytes = Math.Max(count, 0) * type.Size();
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(Bytes, 1), 64);
        NativeMemory.Clear(_data, (nuint)Bytes);
        if (Bytes > 0) GC.AddMemoryPressure(Bytes);
    }

    /// <summary>The elements of a slice of this buffer (a span is limited to 2^31 elements).</summary>
    public Span<T> Span<T>(BufferSlice s) where T : unmanaged
    {
        if (!ReferenceEquals(s.Buffer, this)) throw new ArgumentException("slice of another buffer");
        if (sizeof(T) != s.Type.Size()) throw new ArgumentException($"a {s.Type} slice read as {typeof(T).Name}");
        if (s.ByteOffset < 0 || s.ByteOffset + s.Bytes > Bytes) throw new ArgumentOutOfRangeException(nameof(s), $"bytes [{s.ByteOffset}, {s.ByteOffset + s.Bytes}) of a buffer of {Bytes}");
        if (s.Count > int.MaxValue) throw new OutOfMemoryException($"CPU slice of {s.Count} elements is larger than a span can be");
        if (_data is null) throw new ObjectDisposedException(nameof(CpuBuffer));
        return new Span<T>(_data + s.ByteOffset, (int)s.Count);
    }

    public override void Dispose()
    {
        if (_data is not null)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
            if (Bytes > 0) GC.RemoveMemoryPressure(Bytes);
        }
        base.Dispose();
    }

    ~CpuBuffer() { if (_data is not null) NativeMemory.AlignedFree(_data); }
}

/// <summary>The reference backend: plain loops in float or double precision.</summary>
public sealed partial class CpuBackend<T> : Backend where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _bf16;
    private readonly Layout _layout;

    public CpuBackend() { }

    /// <param name="layout">How 4-D activations and their gradients are stored; every op computes in it (engine/Graph/LAYOUT.md).</param>
    public CpuBackend(Layout layout) { _layout = layout; }

    /// <param name="emulateBf16">Round to bf16 what a bf16 GPU run stores in bf16 (float only; <see cref="Bf16Storage"/>).</param>
    public CpuBackend(bool emulateBf16, Layout layout = Layout.Nchw)
    {
        if (emulateBf16 && typeof(T) != typeof(float)) throw new ArgumentException($"bf16 is emulated on float32 storage, not {typeof(T).Name}", nameof(emulateBf16));
        _bf16 = emulateBf16;
        _layout = layout;
    }

    public override string Name => (_bf16 ? "cpu (single, bf16 emulated" : $"cpu ({typeof(T).Name.ToLowerInvariant()}") + (_layout == Layout.Nhwc ? ", nhwc)" : ")");
    public override Layout Layout => _layout;
    public override DataType FloatType => typeof(T) == typeof(double) ? DataType.F64 : DataType.F32;
    public override Precision Precision => _bf16 ? Precision.Bf16 : typeof(T) == typeof(double) ? Precision.Fp64 : Precision.Fp32;

    public override Buffer Allocate(long count, DataType type)
    {
        if (type.IsFloat() && type != FloatType) throw new ArgumentException($"the {Name} backend holds floats as {FloatType}, not {type}");
        return new CpuBuffer(count, type);
    }

    /// <summary>Large slices (the parameter gradients, once a step) in parallel chunks: one core does not saturate the memory bus.</summary>
    public override void Zero(BufferSlice s)
    {
        const int chunk = 1 << 20;
        if (s.Count <= chunk) { ZeroPart(s); return; }
        WorkerTeam.Shared.For((int)((s.Count + chunk - 1) / chunk), k => ZeroPart(s.Sub(k * chunk, (int)Math.Min(chunk, s.Count - k * chunk))));
    }

    private static void ZeroPart(BufferSlice s)
    {
        if (s.Type == DataType.I32) I(s).Clear();
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
        if (src.Type != dst.Type || src.Count != dst.Count) throw new ArgumentException($"copy of {src.Count} {src.Type} into {dst.Count} {dst.Type}");
        if (src.Type == DataType.I32) I(src).CopyTo(I(dst));
        else F(src).CopyTo(F(dst));
    }

    public override void Forward(NodeRun run)
    {
        var node = Node(run);
        if (_bf16)
        {
            Bf16Storage.RoundGraphInputs(run);
            node.CopyProductOperandsToBf16();
        }
        node.Forward();
        if (_bf16) Bf16Storage.RoundOutputs(run);
    }

    public override void Backward(NodeRun run)
    {
        Node(run).Backward();
        if (_bf16) Bf16Storage.RoundInputGradients(run);
    }

    public override void Recompute(NodeRun run)
    {
        Node(run).Recompute();
        if (_bf16) Bf16Storage.RoundOutputs(run);
    }

    private static CpuNode<T> Node(NodeRun run) => (CpuNode<T>)(run.BackendState ??= new CpuNode<T>(run));
    internal static Span<T> F(BufferSlice s) =>
        s.Type.IsFloat() ? Host(s).Span<T>(s) : throw new ArgumentException($"a {s.Type} slice read as floats");
    internal static Span<int> I(BufferSlice s) =>
        s.Type == DataType.I32 ? Host(s).Span<int>(s) : throw new ArgumentException($"a {s.Type} slice read as integers");

    private static CpuBuffer Host(BufferSlice s) =>
        s.Buffer as CpuBuffer ?? throw new ArgumentException($"a {s.Buffer.GetType().Name} is not CPU memory");

    private static void Check(int from, int to)
    {
        if (from != to) throw new ArgumentException($"copy of {from} elements into a slice of {to}");
    }
}
