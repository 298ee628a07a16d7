using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace Engine.Cuda.Native;

/// <summary>
/// Loads the CUDA driver, cuBLAS, cuDNN and NCCL by this OS's versioned file names
/// (<see cref="NativeLibraryNames"/>) from the folders <see cref="LibrarySearch"/> lists, and
/// hands their handles to the runtime for our [LibraryImport] declarations, which use the
/// logical names below (never a real file name, so that the runtime's own probing cannot pick
/// up a different copy).
/// </summary>
public static class NativeLibraries
{
    internal const string Driver = "engine-cuda-driver";
    internal const string Cublas = "engine-cublas";
    internal const string Cudnn = "engine-cudnn";
    internal const string Nccl = "engine-nccl";

    /// <summary>This OS's file names (<see cref="NativeLibraryNames.Linux"/> or <see cref="NativeLibraryNames.Windows"/>).</summary>
    public static NativeLibraryNames Names => NativeLibraryNames.Current;
    public static NativeLibrarySpec DriverSpec => Names.Driver;
    public static NativeLibrarySpec CublasLtSpec => Names.CublasLt;
    public static NativeLibrarySpec CublasSpec => Names.Cublas;
    public static NativeLibrarySpec CudnnSpec => Names.Cudnn;
    public static NativeLibrarySpec NvrtcSpec => Names.Nvrtc;

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, nint> Handles = [];
    private static readonly Dictionary<string, string> Failures = [];
    private static readonly Dictionary<string, nint> Registered = [];
    private static readonly List<string> Notes = [];
    private static bool _resolverInstalled;

    /// <summary>Where each loaded library came from, and anything optional that failed to load.</summary>
    public static IReadOnlyList<string> LoadNotes { get { lock (Gate) return [.. Notes]; } }

    /// <summary>Loads the driver library (once); throws <see cref="CudaLibraryNotFoundException"/> naming the folders searched.</summary>
    public static nint LoadDriver() => Load(Driver);
    /// <summary>Loads cuBLAS (and cuBLASLt beside it) once.</summary>
    public static nint LoadCublas() => Load(Cublas);
    /// <summary>Loads cuDNN 9 once, after preloading its sub-libraries from the same folder.</summary>
    public static nint LoadCudnn() => Load(Cudnn);

    /// <summary>Like the Load methods, but returns the reason instead of throwing.</summary>
    public static bool TryLoad(string logicalName, out string? error)
    {
        try
        {
            Load(logicalName);
            error = null;
            return true;
        }
        catch (CudaLibraryNotFoundException e)
        {
            error = e.Message;
            return false;
        }
    }

    public static bool TryLoadDriver(out string? error) => TryLoad(Driver, out error);
    public static bool TryLoadCublas(out string? error) => TryLoad(Cublas, out error);
    public static bool TryLoadCudnn(out string? error) => TryLoad(Cudnn, out error);
    /// <summary>Loads NCCL 2 once (multi-GPU collectives; Linux only).</summary>
    public static nint LoadNccl() => Load(Nccl);
    public static bool TryLoadNccl(out string? error) => TryLoad(Nccl, out error);

    /// <summary>
    /// Serves an already loaded library (the image codecs) to this assembly's declarations under a
    /// logical name: the runtime allows one resolver per assembly, and this class owns it.
    /// </summary>
    internal static void Register(string logicalName, nint handle)
    {
        lock (Gate)
        {
            InstallResolver();
            Registered[logicalName] = handle;
        }
    }

    internal static nint Load(string logicalName)
    {
        lock (Gate)
        {
            InstallResolver();
            if (Handles.TryGetValue(logicalName, out var h)) return h;
            if (Failures.TryGetValue(logicalName, out var why)) throw new CudaLibraryNotFoundException(why);
            try
            {
                h = logicalName switch
                {
                    Driver => LoadFromSearch(DriverSpec, LibrarySearch.FromEnvironment()),
                    Cublas => LoadCublasLocked(),
                    Cudnn => LoadCudnnLocked(),
                    Nccl => LoadFromSearch(Names.Nccl ?? throw new CudaLibraryNotFoundException(NativeLibraryNames.NcclUnavailable), LibrarySearch.FromEnvironment()),
                    _ => throw new ArgumentException($"unknown native library '{logicalName}'"),
                };
            }
            catch (CudaLibraryNotFoundException e)
            {
                Failures[logicalName] = e.Message;
                throw;
            }
            Handles[logicalName] = h;
            return h;
        }
    }

    private static nint LoadCublasLocked()
    {
        var search = LibrarySearch.FromEnvironment();
        var cublas = Locate(CublasSpec, search);
        // cuBLAS needs cuBLASLt of the same version; wheels do not put it on the loader's path.
        if (Names.CublasLtFor(Path.GetFileName(cublas)) is { } ltName)
        {
            var lt = Path.Combine(Path.GetDirectoryName(cublas)!, ltName);
            if (File.Exists(lt)) LoadOptional(lt);
        }
        return LoadPath(CublasSpec, cublas);
    }

    private static nint LoadCudnnLocked()
    {
        var search = LibrarySearch.FromEnvironment();
        var cudnn = Locate(CudnnSpec, search);
        var folder = Path.GetDirectoryName(cudnn)!;
        // Sub-libraries may need cuBLASLt and NVRTC; load what is there, ignore what is not. Preloading
        // also serves Windows, where a DLL's LoadLibrary by name finds an already-loaded module first.
        try { Load(Cublas); } catch (CudaLibraryNotFoundException) { }
        var nvrtc = search.Locate(NvrtcSpec, RejectUnloadable);
        if (nvrtc.Path is { } nv)
        {
            foreach (var builtins in Directory.GetFiles(Path.GetDirectoryName(nv)!, Names.NvrtcBuiltinsPattern)) LoadOptional(builtins);
            LoadOptional(nv);
        }

        // An empty folder means the system loader found cuDNN; it then finds the parts by name too.
        string PartPath(string part) => folder.Length == 0 ? part : Path.Combine(folder, part);
        foreach (var part in Names.CudnnRequiredParts)
        {
            var path = PartPath(part);
            if (folder.Length > 0 && !File.Exists(path))
                throw new CudaLibraryNotFoundException(
                    $"cuDNN at {cudnn} is incomplete: {part} is missing beside it (cuDNN would abort the process when it needs it)");
            if (!NativeLibrary.TryLoad(path, out _))
                throw new CudaLibraryNotFoundException($"cuDNN sub-library {path} failed to load: {LastLoaderError(path)}");
            Notes.Add($"loaded {path}");
        }
        foreach (var part in Names.CudnnOptionalParts)
        {
            var path = PartPath(part);
            if (folder.Length == 0 || File.Exists(path)) LoadOptional(path);
        }
        return LoadPath(CudnnSpec, cudnn);
    }

    private static string Locate(NativeLibrarySpec spec, LibrarySearch search)
    {
        var where = search.Locate(spec, RejectUnloadable);
        if (where.Path is { } p) return p;
        // Last resort: the system loader's own search (ld.so.cache and RPATHs; on Windows the
        // application folder, System32 and PATH).
        foreach (var name in spec.FileNames)
            if (NativeLibrary.TryLoad(name, out var h))
            {
                Notes.Add($"{spec.Display}: {name} from the system loader's paths");
                NativeLibrary.Free(h);
                return name;
            }
        throw new CudaLibraryNotFoundException(search.NotFoundMessage(spec, where));
    }

    private static nint LoadFromSearch(NativeLibrarySpec spec, LibrarySearch search) => LoadPath(spec, Locate(spec, search));

    private static nint LoadPath(NativeLibrarySpec spec, string path)
    {
        if (NativeLibrary.TryLoad(path, out var h))
        {
            Notes.Add($"{spec.Display}: {path}");
            return h;
        }
        throw new CudaLibraryNotFoundException($"{spec.Display} at {path} failed to load: {LastLoaderError(path)}");
    }

    private static void LoadOptional(string path)
    {
        if (NativeLibrary.TryLoad(path, out _)) Notes.Add($"loaded {path}");
        else Notes.Add($"could not load {path}: {LastLoaderError(path)}");
    }

    private static string? RejectUnloadable(string path)
    {
        // Probing by loading would run the library's initialisers twice for nothing; only check that it is a real file.
        try
        {
            var info = new FileInfo(path);
            var target = info.LinkTarget is null ? info : info.ResolveLinkTarget(true) as FileInfo;
            return target is { Exists: true, Length: > 0 } ? null : "broken link or empty file";
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    private static string LastLoaderError(string path)
    {
        try
        {
            NativeLibrary.Load(path);
            return "unknown error";
        }
        catch (DllNotFoundException e)
        {
            return e.Message.Replace(Environment.NewLine, " ");
        }
        catch (BadImageFormatException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Registers the resolver for this assembly. The runtime allows one DllImportResolver per
    /// assembly; if another part of the engine installed one first, the unmanaged-DLL resolving
    /// event (tried after default probing, which cannot find our logical names) serves instead.
    /// </summary>
    private static void InstallResolver()
    {
        if (_resolverInstalled) return;
        _resolverInstalled = true;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += (assembly, name) =>
                assembly == typeof(NativeLibraries).Assembly ? Resolve(name, assembly, null) : 0;
        }
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName is Driver or Cublas or Cudnn or Nccl) return Load(libraryName);
        lock (Gate) return Registered.GetValueOrDefault(libraryName);
    }
}
