namespace Engine.Cuda.Native;

/// <summary>
/// Where the CUDA libraries are on Windows, in search order: the override variable, PATH,
/// CUDA_HOME/CUDA_PATH and the toolkits under Program Files (bin\x64 first: CUDA 13 moved its
/// DLLs there), the cuDNN installer's folders (Program Files\NVIDIA\CUDNN\v9.x\bin\&lt;CUDA
/// version&gt;), System32 (where the display driver puts nvcuda.dll), then the Python wheels'
/// nvidia\*\bin folders (the CUDA 13 wheels use nvidia\cu13\bin\x86_64) and conda's Library\bin.
/// </summary>
internal static class WindowsLibraryFolders
{
    public static IEnumerable<string> Candidates(LibrarySearch s)
    {
        var p = s.Platform;
        var programFiles = s.Env("ProgramFiles") is { Length: > 0 } pf ? pf : @"C:\Program Files";
        foreach (var f in p.SplitList(s.Env(LibrarySearch.OverrideVariable))) yield return f;
        foreach (var f in p.SplitList(s.Env("PATH"))) yield return f;

        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
            if (s.Env(variable) is { Length: > 0 } cudaHome)
                foreach (var f in ToolkitBins(p, cudaHome)) yield return f;
        foreach (var toolkit in s.NewestSubfolders(p.Join(programFiles, "NVIDIA GPU Computing Toolkit", "CUDA"), "v*"))
            foreach (var f in ToolkitBins(p, toolkit)) yield return f;

        if (s.Env("CUDNN_PATH") is { Length: > 0 } cudnnPath)
            foreach (var f in CudnnBins(s, cudnnPath)) yield return f;
        foreach (var cudnn in s.NewestSubfolders(p.Join(programFiles, "NVIDIA", "CUDNN"), "v9*"))
            foreach (var f in CudnnBins(s, cudnn)) yield return f;

        var windows = s.Env("SystemRoot") is { Length: > 0 } sr ? sr : @"C:\Windows";
        yield return p.Join(windows, "System32");

        foreach (var site in SitePackages(s))
            foreach (var lib in s.NewestSubfolders(p.Join(site, "nvidia"), "*"))
            {
                yield return p.Join(lib, "bin");
                yield return p.Join(lib, "bin", "x86_64");
            }
        if (s.Env("CONDA_PREFIX") is { Length: > 0 } conda) yield return p.Join(conda, "Library", "bin");
    }

    private static IEnumerable<string> ToolkitBins(SearchPlatform p, string toolkit) =>
        [p.Join(toolkit, "bin", "x64"), p.Join(toolkit, "bin")];

    /// <summary>An installed cuDNN 9: one bin\&lt;CUDA version&gt; folder per CUDA major it was built for (newest first), or a flat bin.</summary>
    private static IEnumerable<string> CudnnBins(LibrarySearch s, string cudnn)
    {
        var p = s.Platform;
        var bin = p.Join(cudnn, "bin");
        foreach (var cuda in s.NewestSubfolders(bin, "*"))
        {
            yield return p.Join(cuda, "x64");
            yield return cuda;
        }
        yield return bin;
    }

    /// <summary>site-packages folders of named venvs and of the usual Python installations (python.org's per-user and all-users ones).</summary>
    internal static IEnumerable<string> SitePackages(LibrarySearch s)
    {
        var p = s.Platform;
        var roots = LibrarySearch.EnvironmentRoots(s);
        if (s.Home is { Length: > 0 } home)
        {
            roots.Add(p.Join(home, ".venv"));
            roots.Add(p.Join(home, "venv"));
        }
        if (s.Env("LOCALAPPDATA") is { Length: > 0 } local)
            roots.AddRange(s.NewestSubfolders(p.Join(local, "Programs", "Python"), "Python3*"));
        roots.AddRange(s.NewestSubfolders(s.Env("ProgramFiles") is { Length: > 0 } pf ? pf : @"C:\Program Files", "Python3*"));

        foreach (var r in roots)
        {
            // A variable may name site-packages itself.
            if (p.DirectoryExists(p.Join(r, "nvidia"))) yield return r;
            var site = p.Join(r, "Lib", "site-packages");
            if (p.DirectoryExists(site)) yield return site;
        }
        // pip install --user: %APPDATA%\Python\Python3NN\site-packages
        if (s.Env("APPDATA") is { Length: > 0 } appData)
            foreach (var py in s.NewestSubfolders(p.Join(appData, "Python"), "Python3*"))
            {
                var site = p.Join(py, "site-packages");
                if (p.DirectoryExists(site)) yield return site;
            }
    }
}
