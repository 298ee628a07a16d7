using System.Runtime.InteropServices;

namespace Engine.Distributed;

/// <summary>
/// The MPI-3 C entry points the engine calls, bound against Open MPI's libmpi.so.40 at run time.
/// In Open MPI a handle (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Request) is a pointer, and the
/// predefined ones are the addresses of exported globals (MPI_COMM_WORLD is &amp;ompi_mpi_comm_world),
/// so <see cref="MpiLibrary"/> looks them up by symbol; MPICH's integer handles are not supported.
/// </summary>
internal static unsafe partial class MpiNative
{
    public const string Lib = "engine-mpi";
    public const int Success = 0;
    public const int CommTypeShared = 0;           // MPI_COMM_TYPE_SHARED
    public static readonly nint InPlace = 1;       // MPI_IN_PLACE is (void*)1 in Open MPI

    [LibraryImport(Lib)] public static partial int MPI_Initialized(out int flag);
    [LibraryImport(Lib)] public static partial int MPI_Finalized(out int flag);
    [LibraryImport(Lib)] public static partial int MPI_Init(nint argc, nint argv);
    [LibraryImport(Lib)] public static partial int MPI_Finalize();
    [LibraryImport(Lib)] public static partial int MPI_Abort(nint comm, int errorCode);
    [LibraryImport(Lib)] public static partial int MPI_Comm_rank(nint comm, out int rank);
    [LibraryImport(Lib)] public static partial int MPI_Comm_size(nint comm, out int size);
    [LibraryImport(Lib)] public static partial int MPI_Comm_split_type(nint comm, int splitType, int key, nint info, out nint newComm);
    [LibraryImport(Lib)] public static partial int MPI_Comm_free(ref nint comm);
    [LibraryImport(Lib)] public static partial int MPI_Iallreduce(nint sendBuf, nint recvBuf, int count, nint type, nint op, nint comm, out nint request);
    [LibraryImport(Lib)] public static partial int MPI_Ibcast(nint buffer, int count, nint type, int root, nint comm, out nint request);
    [LibraryImport(Lib)] public static partial int MPI_Iallgather(nint sendBuf, int sendCount, nint sendType, nint recvBuf, int recvCount, nint recvType, nint comm, out nint request);
    [LibraryImport(Lib)] public static partial int MPI_Isend(nint buf, int count, nint type, int dest, int tag, nint comm, out nint request);
    [LibraryImport(Lib)] public static partial int MPI_Irecv(nint buf, int count, nint type, int source, int tag, nint comm, out nint request);
    /// <summary>MPI_STATUS_IGNORE is a null pointer in Open MPI.</summary>
    [LibraryImport(Lib)] public static partial int MPI_Test(ref nint request, out int flag, nint status);
    [LibraryImport(Lib)] public static partial int MPI_Error_string(int code, byte* text, out int length);
    [LibraryImport(Lib)] public static partial int MPI_Get_library_version(byte* text, out int length);
}
