using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Engine.Data.Datasets;

/// <summary>
/// File names that are not valid UTF-8 on Linux. .NET decodes such names with U+FFFD, and the
/// decoded name no longer opens the file. Here a folder holding one is listed through libc, each
/// byte that is not part of valid UTF-8 becoming a lone surrogate U+DC80..U+DCFF (Python's
/// "surrogateescape"), and such a path is opened through libc with its original bytes.
/// </summary>
internal static unsafe partial class RawFileNames
{
    private const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_TRUNC = 0x200, O_CLOEXEC = 0x80000;

    /// <summary>Whether .NET's listing of a folder may have mangled this name.</summary>
    public static bool Mangled(string name) => OperatingSystem.IsLinux() && name.Contains('\uFFFD');

    /// <summary>The names of the files (not folders) in <paramref name="folder"/> that are not valid UTF-8, escaped; empty when the folder cannot be read.</summary>
    public static List<string> Undecodable(string folder)
    {
        var names = new List<string>();
        nint dir = opendir(Encode(folder));
        if (dir == 0) return names;
        try
        {
            for (byte* entry; (entry = readdir(dir)) != null;)
            {
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(entry + NameOffset);
                byte type = entry[TypeOffset];   // DT_UNKNOWN 0, DT_REG 8, DT_LNK 10
                if (!System.Text.Unicode.Utf8.IsValid(name) && type is 0 or 8 or 10) names.Add(Decode(name));
            }
        }
        finally { closedir(dir); }
        return names;
    }

    /// <summary>Whether <paramref name="path"/> holds escaped bytes that only <see cref="OpenRead"/> can open.</summary>
    public static bool IsEscaped(string path) => OperatingSystem.IsLinux() && path.Any(c => c is >= '\uDC80' and <= '\uDCFF');

    public static SafeFileHandle OpenRead(string path) => Open(path, O_RDONLY | O_CLOEXEC);

    /// <summary>Creates (or truncates) a file with the escaped name's original bytes, for tests.</summary>
    public static SafeFileHandle Create(string path) => Open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);

    private static SafeFileHandle Open(string path, int flags)
    {
        int fd = open(Encode(path), flags, 0x1A4 /* 0644 */);
        if (fd < 0) throw new IOException($"cannot open {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>UTF-8 with invalid bytes as lone surrogates U+DC80..U+DCFF.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes, out var rune, out int used);
            if (status == System.Buffers.OperationStatus.Done) text.Append(rune.ToString());
            else { text.Append((char)(0xDC00 + bytes[0])); used = 1; }
            bytes = bytes[used..];
        }
        return text.ToString();
    }

    /// <summary>The inverse of <see cref="Decode"/>, null-terminated.</summary>
    public static byte[] Encode(string text)
    {
        var bytes = new List<byte>(text.Length + 1);
        Span<byte> buffer = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is >= '\uDC80' and <= '\uDCFF') { bytes.Add((byte)(c - 0xDC00)); continue; }
            int n = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])
                ? new System.Text.Rune(c, text[++i]).EncodeToUtf8(buffer)
                : new System.Text.Rune(char.IsSurrogate(c) ? '\uFFFD' : c).EncodeToUtf8(buffer);
            for (int k = 0; k < n; k++) bytes.Add(buffer[k]);
        }
        bytes.Add(0);
        return [.. bytes];
    }

    // struct dirent on Linux (glibc, 64-bit): d_ino 8, d_off 8, d_reclen 2, d_type 1, then d_name.
    private const int TypeOffset = 18, NameOffset = 19;

    [LibraryImport("libc", SetLastError = true)] private static partial nint opendir(byte[] path);
    [LibraryImport("libc")] private static partial byte* readdir(nint dir);
    [LibraryImport("libc")] private static partial int closedir(nint dir);
    [LibraryImport("libc", SetLastError = true)] private static partial int open(byte[] path, int flags, int mode);
}
