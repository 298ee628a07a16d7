using System.Runtime.InteropServices;

namespace Engine.Cuda.Native;

/// <summary>NCCL 2 entry points (nccl.h), loaded at run time through <see cref="NativeLibraries"/>. Every call returns an ncclResult_t.</summary>
internal static unsafe partial class Nccl
{
    private const string Lib = NativeLibraries.Nccl;

    public const int Success = 0;
    public const int InProgress = 7;
    // ncclDataType_t
    public const int Float32 = 7;
    // ncclRedOp_t
    public const int Sum = 0;

    /// <summary>ncclUniqueId: 128 opaque bytes made by one rank and handed to the others (here over MPI).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UniqueId
    {
        public const int Size = 128;
        public fixed byte Bytes[Size];
    }

    [LibraryImport(Lib)] public static partial int ncclGetVersion(out int version);
    [LibraryImport(Lib)] public static partial int ncclGetUniqueId(out UniqueId id);
    [LibraryImport(Lib)] public static partial int ncclCommInitRank(out nint comm, int ranks, UniqueId id, int rank);
    [LibraryImport(Lib)] public static partial int ncclAllReduce(ulong send, ulong receive, nuint count, int dataType, int op, nint comm, nint stream);
    [LibraryImport(Lib)] public static partial int ncclBroadcast(ulong send, ulong receive, nuint count, int dataType, int root, nint comm, nint stream);
    [LibraryImport(Lib)] public static partial int ncclCommGetAsyncError(nint comm, out int asyncError);
    [LibraryImport(Lib)] public static partial int ncclCommAbort(nint comm);
    [LibraryImport(Lib)] public static partial int ncclCommDestroy(nint comm);
    [LibraryImport(Lib)] public static partial byte* ncclGetErrorString(int result);

    public static string ErrorString(int result) => Marshal.PtrToStringUTF8((nint)ncclGetErrorString(result)) ?? $"ncclResult_t {result}";
}
