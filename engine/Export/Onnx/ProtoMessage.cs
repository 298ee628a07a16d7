using System.Buffers.Binary;
using System.Text;

namespace Engine.Export.Onnx;

/// <summary>
/// One protocol-buffers message under construction: its fields in order, encoded in the wire
/// format (varint key = field &lt;&lt; 3 | wire type) when written. Nested messages are kept as
/// objects and their lengths computed before writing, so large tensors are copied once, into
/// the output stream. Repeated scalars are written unpacked, one key per element: onnx.proto is
/// proto2 without [packed = true], and every parser accepts that form.
/// </summary>
internal sealed class ProtoMessage
{
    private const int Varint = 0, Fixed32 = 5, LengthDelimited = 2;

    private readonly List<(int Key, long Number, ReadOnlyMemory<byte> Bytes, ProtoMessage? Message)> _fields = [];
    private long _length = -1;

    /// <summary>int32, int64 or enum; a negative value takes ten bytes (two's complement), as the format says.</summary>
    public ProtoMessage Int(int field, long value) => Add(field, Varint, value, default, null);

    public ProtoMessage Float(int field, float value) => Add(field, Fixed32, BitConverter.SingleToInt32Bits(value), default, null);

    public ProtoMessage Bytes(int field, ReadOnlyMemory<byte> value) => Add(field, LengthDelimited, 0, value, null);

    public ProtoMessage String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoMessage Message(int field, ProtoMessage value) => Add(field, LengthDelimited, 0, default, value);

    private ProtoMessage Add(int field, int wireType, long number, ReadOnlyMemory<byte> bytes, ProtoMessage? message)
    {
        _fields.Add((field << 3 | wireType, number, bytes, message));
        _length = -1;
        return this;
    }

    /// <summary>Encoded length in bytes (without any length prefix of its own).</summary>
    public long Length
    {
        get
        {
            if (_length >= 0) return _length;
            long total = 0;
            foreach (var f in _fields)
            {
                total += VarintLength((ulong)f.Key);
                total += (f.Key & 7) switch
                {
                    Varint => VarintLength((ulong)f.Number),
                    Fixed32 => 4,
                    _ => PayloadLength(f) + VarintLength((ulong)PayloadLength(f)),
                };
            }
            return _length = total;
        }
    }

    private static long PayloadLength((int Key, long Number, ReadOnlyMemory<byte> Bytes, ProtoMessage? Message) f) =>
        f.Message?.Length ?? f.Bytes.Length;

    public void WriteTo(Stream stream)
    {
        Span<byte> scratch = stackalloc byte[10];
        foreach (var f in _fields)
        {
            WriteVarint(stream, (ulong)f.Key, scratch);
            switch (f.Key & 7)
            {
                case Varint:
                    WriteVarint(stream, (ulong)f.Number, scratch);
                    break;
                case Fixed32:
                    BinaryPrimitives.WriteInt32LittleEndian(scratch, (int)f.Number);
                    stream.Write(scratch[..4]);
                    break;
                default:
                    WriteVarint(stream, (ulong)PayloadLength(f), scratch);
                    if (f.Message is { } m) m.WriteTo(stream);
                    else stream.Write(f.Bytes.Span);
                    break;
            }
        }
    }

    public byte[] ToArray()
    {
        using var stream = new MemoryStream(checked((int)Length));
        WriteTo(stream);
        return stream.ToArray();
    }

    private static int VarintLength(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    private static void WriteVarint(Stream stream, ulong value, Span<byte> scratch)
    {
        int n = 0;
        while (value >= 0x80)
        {
            scratch[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        scratch[n++] = (byte)value;
        stream.Write(scratch[..n]);
    }
}
