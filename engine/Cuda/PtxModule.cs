using System.Text;
using System.Text.RegularExpressions;
using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>
/// A PTX image loaded with cuModuleLoadDataEx. The driver JIT-compiles it for the GPU at load
/// (PTX is forward compatible); when that fails, the JIT's error log is part of the exception.
/// </summary>
public sealed partial class PtxModule : IDisposable
{
    private const int LogBytes = 16 * 1024;
    private readonly Dictionary<string, CudaFunction> _functions = [];
    private nint _handle;

    private PtxModule(string name, nint handle, string infoLog)
    {
        Name = name;
        _handle = handle;
        InfoLog = infoLog;
    }

    public string Name { get; }
    /// <summary>What the JIT said on success (usually empty).</summary>
    public string InfoLog { get; }

    /// <summary>Loads PTX text into the current context. <paramref name="name"/> only labels messages.</summary>
    public static unsafe PtxModule Load(string name, ReadOnlySpan<byte> ptx)
    {
        var image = NulTerminated(ptx);
        var errorLog = new byte[LogBytes];
        var infoLog = new byte[LogBytes];
        fixed (byte* img = image)
        fixed (byte* err = errorLog)
        fixed (byte* info = infoLog)
        {
            var options = stackalloc int[4]
            {
                Driver.JitErrorLogBuffer, Driver.JitErrorLogBufferSizeBytes,
                Driver.JitInfoLogBuffer, Driver.JitInfoLogBufferSizeBytes,
            };
            // Size options carry their value in the pointer itself; the driver writes back the bytes used.
            var values = stackalloc void*[4] { err, (void*)(nuint)LogBytes, info, (void*)(nuint)LogBytes };
            var r = Driver.cuModuleLoadDataEx(out var module, img, 4, options, values);
            if (r != CuResult.Success)
            {
                var log = LogText(errorLog);
                throw new CudaException("CUDA driver", $"cuModuleLoadDataEx({name})", (int)r, Driver.ErrorName(r),
                    (log.Length > 0 ? "JIT log: " + log : "no JIT log") + Hint(r));
            }
            return new PtxModule(name, module, LogText(infoLog));
        }
    }

    /// <summary>The kernel named <paramref name="entry"/> (an extern "C" name), looked up once.</summary>
    public CudaFunction Function(string entry)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        if (_functions.TryGetValue(entry, out var f)) return f;
        var r = Driver.cuModuleGetFunction(out var handle, _handle, entry);
        if (r == CuResult.NotFound)
            throw new CudaException("CUDA driver", $"cuModuleGetFunction({Name}, {entry})", (int)r, Driver.ErrorName(r),
                $"module {Name} has no kernel named {entry}");
        Driver.Check(r, $"cuModuleGetFunction({Name}, {entry})");
        return _functions[entry] = new CudaFunction(entry, handle);
    }

    /// <summary>The kernel entry names a PTX text declares (".visible .entry name(" lines).</summary>
    public static IReadOnlyList<string> EntryNames(string ptx) =>
        EntryPattern().Matches(ptx).Select(m => m.Groups[1].Value).Distinct().ToArray();

    /// <summary>The image with exactly one trailing NUL, as cuModuleLoadDataEx requires of PTX text.</summary>
    internal static byte[] NulTerminated(ReadOnlySpan<byte> ptx)
    {
        var end = ptx.Length;
        while (end > 0 && ptx[end - 1] == 0) end--;
        var image = new byte[end + 1];
        ptx[..end].CopyTo(image);
        return image;
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        Driver.cuModuleUnload(_handle);
        _handle = 0;
    }

    private static string LogText(byte[] log)
    {
        var n = Array.IndexOf(log, (byte)0);
        return Encoding.UTF8.GetString(log, 0, n < 0 ? log.Length : n).Trim();
    }

    private static string Hint(CuResult r) => r switch
    {
        CuResult.UnsupportedPtxVersion => " (the PTX was built by a newer nvcc than this driver understands: rebuild the kernels with the toolkit matching the driver, or an older -arch)",
        CuResult.NoBinaryForGpu => " (no code in the image runs on this GPU)",
        _ => "",
    };

    [GeneratedRegex(@"^\s*(?:\.visible\s+|\.weak\s+)?\.entry\s+([A-Za-z_$][\w$]*)\s*\(", RegexOptions.Multiline)]
    private static partial Regex EntryPattern();
}
