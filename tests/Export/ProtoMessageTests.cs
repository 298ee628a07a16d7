using Engine.Export.Onnx;

namespace Engine.Tests.Export;

/// <summary>The protocol-buffers wire format of the ONNX writer, byte for byte against the encoding spec's own examples.</summary>
public class ProtoMessageTests
{
    [Test]
    public void Scalars_strings_and_nested_messages_encode_as_the_wire_format_says()
    {
        var inner = new ProtoMessage().Int(1, 150);   // the spec's example: 08 96 01
        var bytes = new ProtoMessage()
            .Int(1, 300)
            .Int(2, -1)
            .Float(3, 1.5f)
            .String(4, "hi")
            .Message(5, inner)
            .ToArray();
        byte[] expected =
        [
            0x08, 0xAC, 0x02,                                                    // field 1 varint 300
            0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,    // field 2 varint -1: ten bytes
            0x1D, 0x00, 0x00, 0xC0, 0x3F,                                        // field 3 fixed32 1.5f, little-endian
            0x22, 0x02, 0x68, 0x69,                                              // field 4 length-delimited "hi"
            0x2A, 0x03, 0x08, 0x96, 0x01,                                        // field 5 the nested message
        ];
        Assert.That(bytes, Is.EqualTo(expected));
    }

    [Test]
    public void Length_counts_multi_byte_keys_and_lengths()
    {
        var big = new byte[200];
        var m = new ProtoMessage().Bytes(20, big);   // key 20 << 3 | 2 = 162 and length 200 take two bytes each
        Assert.That(m.Length, Is.EqualTo(2 + 2 + 200));
        Assert.That(m.ToArray(), Has.Length.EqualTo(m.Length));
    }
}
