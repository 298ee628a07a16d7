using System.Buffers.Binary;
using System.Text;

namespace Engine.Weights;

/// <summary>A storage named by torch.save's persistent id ('storage', type, key, location, numel): the file data/KEY.</summary>
public sealed record TorchStorage(string Key, string DType);

/// <summary>torch._utils._rebuild_tensor_v2's arguments: a view of a storage (offsets and strides in elements).</summary>
public sealed record TorchTensor(TorchStorage Storage, long Offset, int[] Shape, long[] Stride);

/// <summary>A dict as pickled: keys and values in order (collections.OrderedDict or a plain dict).</summary>
public sealed class PickleDict : List<KeyValuePair<object?, object?>>;

/// <summary>
/// The subset of Python's pickle that torch.save writes for a state dict (protocols 2-4), read
/// without executing anything: the only callables are collections.OrderedDict,
/// torch._utils._rebuild_tensor_v2 and _rebuild_parameter, and the storage types of a persistent
/// id, each turned into data (<see cref="PickleDict"/>, <see cref="TorchTensor"/>). Any other
/// global or opcode is refused with the name of what the file asked for.
/// </summary>
public sealed class Pickle
{
    private static readonly Dictionary<string, string> StorageTypes = new()
    {
        ["FloatStorage"] = "F32", ["HalfStorage"] = "F16", ["BFloat16Storage"] = "BF16", ["DoubleStorage"] = "F64",
        ["LongStorage"] = "I64", ["IntStorage"] = "I32", ["ShortStorage"] = "I16", ["CharStorage"] = "I8",
        ["ByteStorage"] = "U8", ["BoolStorage"] = "BOOL",
    };

    private sealed record Global(string Module, string Name)
    {
        public override string ToString() => $"{Module}.{Name}";
    }

    private sealed class Mark;

    private readonly byte[] _data;
    private readonly string _source;
    private readonly List<object?> _stack = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    private Pickle(byte[] data, string source) { _data = data; _source = source; }

    /// <summary>The object the pickle in <paramref name="data"/> describes; <paramref name="source"/> names it in errors.</summary>
    public static object? Load(byte[] data, string source) => new Pickle(data, source).Run();

    private InvalidDataException Refuse(string what) =>
        new($"{_source}: {what}; only tensors and (ordered) dicts are read from PyTorch files, and nothing in them is executed");

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw Refuse("the pickle ends without STOP");
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: _pos++; break;                                     // PROTO n
                case 0x95: _pos += 8; break;                                  // FRAME length
                case (byte)'.': return Pop();                                 // STOP
                case (byte)'(': _stack.Add(new Mark()); break;                // MARK
                case (byte)')': _stack.Add(Array.Empty<object?>()); break;    // EMPTY_TUPLE
                case (byte)']': _stack.Add(new List<object?>()); break;       // EMPTY_LIST
                case (byte)'}': _stack.Add(new PickleDict()); break;          // EMPTY_DICT
                case (byte)'N': _stack.Add(null); break;
                case 0x88: _stack.Add(true); break;
                case 0x89: _stack.Add(false); break;
                case (byte)'K': _stack.Add((long)_data[_pos++]); break;                                   // BININT1
                case (byte)'M': _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case (byte)'J': _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;  // BININT
                case 0x8a: _stack.Add(Long(Take(_data[_pos++]))); break;                                  // LONG1
                case (byte)'G': _stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;         // BINFLOAT
                case (byte)'X': _stack.Add(Text(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // BINUNICODE
                case 0x8c: _stack.Add(Text(_data[_pos++])); break;                                        // SHORT_BINUNICODE
                case 0x8d: _stack.Add(Text((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))); break; // BINUNICODE8
                case (byte)'q': _memo[_data[_pos++]] = Top(); break;                                     // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Top(); break;  // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Top(); break;                                            // MEMOIZE
                case (byte)'h': _stack.Add(Memo(_data[_pos++])); break;                                  // BINGET
                case (byte)'j': _stack.Add(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                case (byte)'t': _stack.Add(PopToMark().ToArray()); break;                                // TUPLE
                case 0x85: _stack.Add(new[] { Pop() }); break;                                           // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); _stack.Add(new[] { a, b }); break; }          // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); _stack.Add(new[] { a, b, c }); break; } // TUPLE3
                case (byte)'a': { var v = Pop(); AsList(Top()).Add(v); break; }                          // APPEND
                case (byte)'e': { var items = PopToMark(); AsList(Top()).AddRange(items); break; }       // APPENDS
                case (byte)'s': { var v = Pop(); var k = Pop(); AsDict(Top()).Add(new(k, v)); break; }  // SETITEM
                case (byte)'u':                                                                          // SETITEMS
                {
                    var items = PopToMark();
                    var d = AsDict(Top());
                    for (int i = 0; i + 1 < items.Count; i += 2) d.Add(new(items[i], items[i + 1]));
                    break;
                }
                case (byte)'c': _stack.Add(Allowed(Line(), Line())); break;                              // GLOBAL
                case 0x93: { var name = Pop() as string; var module = Pop() as string; _stack.Add(Allowed(module ?? "?", name ?? "?")); break; } // STACK_GLOBAL
                case (byte)'Q': _stack.Add(PersistentId(Pop())); break;                                  // BINPERSID
                case (byte)'R': { var args = Pop(); var f = Pop(); _stack.Add(Call(f, args)); break; }   // REDUCE
                case (byte)'b':                                                                          // BUILD
                {
                    var state = Pop();
                    if (Top() is not PickleDict || state is not PickleDict)
                        throw Refuse($"BUILD of a {Describe(Top())} with a {Describe(state)}");
                    break;   // an OrderedDict's attributes (a state dict's _metadata): not needed
                }
                default: throw Refuse($"pickle opcode 0x{op:x2} at byte {_pos - 1} is not part of what torch.save writes for tensors");
            }
        }
    }

    private object Allowed(string module, string name)
    {
        var g = new Global(module, name);
        bool ok = (module, name) switch
        {
            ("collections", "OrderedDict") => true,
            ("torch._utils", "_rebuild_tensor_v2" or "_rebuild_parameter") => true,
            ("torch", _) => StorageTypes.ContainsKey(name),
            _ => false,
        };
        return ok ? g : throw Refuse($"it asks for {g}");
    }

    private object? Call(object? f, object? args)
    {
        if (f is not Global g || args is not object?[] a) throw Refuse($"REDUCE of a {Describe(f)}");
        switch (g.Name)
        {
            case "OrderedDict" when a.Length == 0: return new PickleDict();
            case "_rebuild_tensor_v2" when a.Length >= 4 && a[0] is TorchStorage storage:
                return new TorchTensor(storage, AsLong(a[1]), Ints(a[2]).Select(x => checked((int)x)).ToArray(), Ints(a[3]));
            case "_rebuild_parameter" when a.Length >= 1 && a[0] is TorchTensor t: return t;
            default: throw Refuse($"{g} called with arguments it is not expected to have");
        }
    }

    private TorchStorage PersistentId(object? pid)
    {
        if (pid is object?[] { Length: >= 3 } t && t[0] is "storage" && t[1] is Global { Module: "torch" } type && t[2] is string key
            && StorageTypes.TryGetValue(type.Name, out var dtype))
            return new TorchStorage(key, dtype);
        throw Refuse($"a persistent id other than a storage ({Describe(pid)})");
    }

    private static string Describe(object? o) => o switch
    {
        null => "None",
        Global g => g.ToString(),
        object?[] t => $"tuple of {t.Length}",
        _ => o.GetType().Name,
    };

    private ReadOnlySpan<byte> Take(int n)
    {
        if (_pos + n > _data.Length) throw Refuse("the pickle is cut short");
        var s = _data.AsSpan(_pos, n);
        _pos += n;
        return s;
    }

    private string Text(long n) => n <= int.MaxValue ? Encoding.UTF8.GetString(Take((int)n)) : throw Refuse("a string longer than 2 GB");

    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Refuse("GLOBAL without a line end");
        var s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private static long Long(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 8) throw new InvalidDataException("an integer wider than 64 bits in the pickle");
        long v = 0;
        for (int i = bytes.Length - 1; i >= 0; i--) v = (v << 8) | bytes[i];
        if (bytes.Length is > 0 and < 8 && (bytes[^1] & 0x80) != 0) v -= 1L << (8 * bytes.Length);
        return v;
    }

    private object? Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw Refuse($"memo entry {key} is read before it is written");
    private object? Top() => _stack.Count > 0 ? _stack[^1] : throw Refuse("the pickle's stack is empty where a value is needed");

    private object? Pop()
    {
        var v = Top();
        _stack.RemoveAt(_stack.Count - 1);
        return v is Mark ? throw Refuse("a MARK where a value is needed") : v;
    }

    private List<object?> PopToMark()
    {
        int mark = _stack.FindLastIndex(o => o is Mark);
        if (mark < 0) throw Refuse("no MARK to close");
        var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private List<object?> AsList(object? o) => o as List<object?> ?? throw Refuse($"APPEND to a {Describe(o)}");
    private PickleDict AsDict(object? o) => o as PickleDict ?? throw Refuse($"SETITEM on a {Describe(o)}");
    private long AsLong(object? o) => o as long? ?? throw Refuse($"an integer expected, got {Describe(o)}");
    private long[] Ints(object? o) => o is object?[] t ? t.Select(AsLong).ToArray() : throw Refuse($"a tuple of integers expected, got {Describe(o)}");
}
