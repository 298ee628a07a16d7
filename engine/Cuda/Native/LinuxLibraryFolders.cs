namespace Engine.Cuda.Native;

/// <summary>
/// Where the CUDA libraries are on Linux, in search order: the override variable,
/// LD_LIBRARY_PATH, CUDA_HOME/CUDA_PATH, the toolkits under /usr/local, the distribution's
/// folders, then the Python wheels' nvidia/*/lib folders (PyTorch ships cuBLAS and cuDNN that way).
/// </summary>
internal static class LinuxLibraryFolders
{
    public static IEnumerable<string> Candidates(LibrarySearch s)
    {
        var p = s.Platform;
        foreach (var f in p.SplitList(s.Env(LibrarySearch.OverrideVariable))) yield return f;
        foreach (var f in p.SplitList(s.Env("LD_LIBRARY_PATH"))) yield return f;
        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
            if (s.Env(variable) is { Length: > 0 } cudaHome)
            {
                yield return p.Join(cudaHome, "targets/x86_64-linux/lib");
                yield return p.Join(cudaHome, "lib64");
            }

        yield return s.Root + "/usr/local/cuda/targets/x86_64-linux/lib";
        yield return s.Root + "/usr/local/cuda/lib64";
        foreach (var toolkit in s.NewestSubfolders(s.Root + "/usr/local", "cuda-*"))
        {
            yield return p.Join(toolkit, "targets/x86_64-linux/lib");
            yield return p.Join(toolkit, "lib64");
        }
        yield return s.Root + "/usr/lib/x86_64-linux-gnu";
        yield return s.Root + "/usr/lib64";
        yield return s.Root + "/usr/lib/wsl/lib";

        foreach (var site in SitePackages(s))
            foreach (var lib in s.NewestSubfolders(p.Join(site, "nvidia"), "*"))
                yield return p.Join(lib, "lib");
        if (s.Env("CONDA_PREFIX") is { Length: > 0 } conda) yield return p.Join(conda, "lib");
    }

    /// <summary>site-packages / dist-packages folders of the usual Python installations and of named venvs.</summary>
    internal static IEnumerable<string> SitePackages(LibrarySearch s)
    {
        var p = s.Platform;
        var roots = LibrarySearch.EnvironmentRoots(s);
        if (s.Home is { Length: > 0 } home)
        {
            roots.Add(p.Join(home, ".local"));
            roots.Add(p.Join(home, ".venv"));
            roots.Add(p.Join(home, "venv"));
            roots.AddRange(p.Subfolders(home, "*").Where(d => p.DirectoryExists(p.Join(d, "lib"))));
        }
        roots.Add(s.Root + "/usr/local");
        roots.Add(s.Root + "/usr");
        roots.Add(s.Root + "/opt/conda");
        roots.AddRange(p.Subfolders(s.Root + "/opt", "*"));

        foreach (var r in roots)
        {
            // A variable may name site-packages itself.
            if (p.DirectoryExists(p.Join(r, "nvidia"))) yield return r;
            foreach (var py in s.NewestSubfolders(p.Join(r, "lib"), "python3*"))
                foreach (var kind in new[] { "site-packages", "dist-packages" })
                {
                    var site = p.Join(py, kind);
                    if (p.DirectoryExists(site)) yield return site;
                }
        }
    }
}
