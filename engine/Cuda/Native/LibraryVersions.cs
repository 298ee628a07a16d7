namespace Engine.Cuda.Native;

/// <summary>Versions of the loaded math libraries, for `host info` and result tables. Neither needs a GPU.</summary>
public static class LibraryVersions
{
    /// <summary>cuBLAS as "major.minor.patch"; loads it if needed.</summary>
    public static string Cublas()
    {
        NativeLibraries.LoadCublas();
        return Native.Cublas.Version();
    }

    /// <summary>cuDNN as "major.minor.patch"; loads it (and its sub-libraries) if needed.</summary>
    public static string Cudnn()
    {
        NativeLibraries.LoadCudnn();
        return Native.Cudnn.Version();
    }
}
