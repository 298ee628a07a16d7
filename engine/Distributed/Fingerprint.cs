using System.Runtime.InteropServices;

namespace Engine.Distributed;

/// <summary>A 64-bit FNV-1a checksum of text or of doubles' bits.</summary>
internal static class Fingerprint
{
    private const ulong Offset = 14695981039346656037UL, Prime = 1099511628211UL;

    public static ulong Of(string text)
    {
        ulong h = Offset;
        foreach (char c in text) h = (h ^ c) * Prime;
        return h;
    }

    public static ulong Of(ReadOnlySpan<double> values)
    {
        ulong h = Offset;
        foreach (ulong bits in MemoryMarshal.Cast<double, ulong>(values)) h = (h ^ bits) * Prime;
        return h;
    }
}
