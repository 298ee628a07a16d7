using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Engine.Tensors;

/// <summary>NumPy .npy version 1.0 read/write for little-endian float32, float64, int32 and int64 (read only) C-order arrays.</summary>
public static partial class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static void Write<T>(string path, Tensor<T> t) where T : unmanaged
    {
        string descr = typeof(T) == typeof(float) ? "<f4" : typeof(T) == typeof(double) ? "<f8"
            : typeof(T) == typeof(int) ? "<i4" : throw new NotSupportedException($".npy: element type {typeof(T).Name}");
        string dims = t.Shape.Rank switch
        {
            0 => "()",
            1 => $"({t.Shape[0]},)",
            _ => "(" + string.Join(", ", t.Shape.Dims.ToArray()) + ")",
        };
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var tmp = path + ".tmp";
        using (var f = File.Create(tmp))
        {
            f.Write(Magic);
            f.WriteByte(1); f.WriteByte(0);
            f.Write(BitConverter.GetBytes((ushort)header.Length));
            f.Write(Encoding.ASCII.GetBytes(header));
            f.Write(MemoryMarshal.AsBytes(t.Data.AsSpan()));
        }
        Engine.IO.FileReplace.Over(tmp, path);
    }

    /// <summary>Reads an array and converts it to <typeparamref name="T"/> (float, double or int).</summary>
    public static Tensor<T> Read<T>(string path) where T : unmanaged
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a .npy file");
        int major = bytes[6];
        int headerLen = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = major == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetString(bytes, start, headerLen);
        var descr = DescrRx().Match(header).Groups[1].Value;
        if (header.Contains("'fortran_order': True"))
            throw new InvalidDataException($"{path}: Fortran-order arrays are not supported");
        var shapeText = ShapeRx().Match(header).Groups[1].Value;
        var dims = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        var shape = new Shape(dims);
        var data = bytes.AsSpan(start + headerLen);
        var result = new T[shape.Numel];
        switch (descr)
        {
            case "<f4": Convert(MemoryMarshal.Cast<byte, float>(data)[..result.Length], result); break;
            case "<f8": Convert(MemoryMarshal.Cast<byte, double>(data)[..result.Length], result); break;
            case "<i4": Convert(MemoryMarshal.Cast<byte, int>(data)[..result.Length], result); break;
            case "<i8": Convert(MemoryMarshal.Cast<byte, long>(data)[..result.Length], result); break;
            default: throw new InvalidDataException($"{path}: unsupported dtype '{descr}'");
        }
        return new Tensor<T>(shape, result);
    }

    private static void Convert<TFrom, TTo>(ReadOnlySpan<TFrom> src, Span<TTo> dst) where TFrom : unmanaged where TTo : unmanaged
    {
        for (int i = 0; i < src.Length; i++) dst[i] = Cast<TFrom, TTo>(src[i]);
    }

    private static TTo Cast<TFrom, TTo>(TFrom v) where TFrom : unmanaged where TTo : unmanaged
    {
        double d = v switch { float f => f, double x => x, int n => n, long l => l, _ => throw new NotSupportedException() };
        if (typeof(TTo) == typeof(float)) { float r = (float)d; return Unsafe.As<float, TTo>(ref r); }
        if (typeof(TTo) == typeof(double)) return Unsafe.As<double, TTo>(ref d);
        if (typeof(TTo) == typeof(int)) { int r = (int)d; return Unsafe.As<int, TTo>(ref r); }
        throw new NotSupportedException($".npy: element type {typeof(TTo).Name}");
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")] private static partial Regex DescrRx();
    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")] private static partial Regex ShapeRx();
}
