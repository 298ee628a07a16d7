using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>
/// The library search with each OS's rules run as data on this machine: a Windows tree (drive
/// letters, backslashes, ';' in PATH, case-insensitive names) and a Linux one, in memory.
/// </summary>
public class PlatformLibrarySearchTests
{
    private const string ProgramFiles = @"C:\Program Files";
    private const string Toolkits = @"C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA";
    private static readonly NativeLibraryNames Win = NativeLibraryNames.Windows;

    private static FakeFileTree WindowsTree() => new(OsFamily.Windows, new()
    {
        ["ProgramFiles"] = ProgramFiles,
        ["SystemRoot"] = @"C:\Windows",
        ["LOCALAPPDATA"] = @"C:\Users\me\AppData\Local",
        ["APPDATA"] = @"C:\Users\me\AppData\Roaming",
    });

    private static LibrarySearch Search(FakeFileTree tree, string? home = null) => new(tree.Platform, "", home);

    [Test]
    public void Windows_folders_come_in_the_documented_order()
    {
        var tree = WindowsTree();
        tree.Env[LibrarySearch.OverrideVariable] = @"D:\mine;""D:\quoted dir""";
        tree.Env["PATH"] = @"C:\tools;;C:\Windows\System32";
        tree.Env["CUDA_PATH"] = $@"{Toolkits}\v13.0";
        foreach (var f in new[]
                 {
                     @"D:\mine", @"D:\quoted dir", @"C:\tools", @"C:\Windows\System32",
                     $@"{Toolkits}\v13.0\bin\x64", $@"{Toolkits}\v13.0\bin", $@"{Toolkits}\v12.4\bin", $@"{Toolkits}\v9.2\bin",
                     $@"{ProgramFiles}\NVIDIA\CUDNN\v9.1\bin\11.8", $@"{ProgramFiles}\NVIDIA\CUDNN\v9.1\bin\12.3",
                     $@"{ProgramFiles}\NVIDIA\CUDNN\v9.10\bin\12.9", $@"{ProgramFiles}\NVIDIA\CUDNN\v9.10\bin\13.0\x64",
                     @"C:\Users\me\AppData\Local\Programs\Python\Python312\Lib\site-packages\nvidia\cudnn\bin",
                     @"C:\Users\me\AppData\Local\Programs\Python\Python312\Lib\site-packages\nvidia\cu13\bin\x86_64",
                 })
            tree.Folder(f);

        var folders = Search(tree).Folders();

        Assert.That(folders, Is.EqualTo(new[]
        {
            @"D:\mine", @"D:\quoted dir", @"C:\tools", @"C:\Windows\System32",
            $@"{Toolkits}\v13.0\bin\x64", $@"{Toolkits}\v13.0\bin", $@"{Toolkits}\v12.4\bin", $@"{Toolkits}\v9.2\bin",
            $@"{ProgramFiles}\NVIDIA\CUDNN\v9.10\bin\13.0\x64", $@"{ProgramFiles}\NVIDIA\CUDNN\v9.10\bin\13.0", $@"{ProgramFiles}\NVIDIA\CUDNN\v9.10\bin\12.9",
            $@"{ProgramFiles}\NVIDIA\CUDNN\v9.10\bin",
            $@"{ProgramFiles}\NVIDIA\CUDNN\v9.1\bin\12.3", $@"{ProgramFiles}\NVIDIA\CUDNN\v9.1\bin\11.8", $@"{ProgramFiles}\NVIDIA\CUDNN\v9.1\bin",
            @"C:\Users\me\AppData\Local\Programs\Python\Python312\Lib\site-packages\nvidia\cu13\bin",
            @"C:\Users\me\AppData\Local\Programs\Python\Python312\Lib\site-packages\nvidia\cu13\bin\x86_64",
            @"C:\Users\me\AppData\Local\Programs\Python\Python312\Lib\site-packages\nvidia\cudnn\bin",
        }));
    }

    [Test]
    public void Windows_driver_comes_from_System32_and_cublas_from_CUDA_13s_bin_x64()
    {
        var tree = WindowsTree();
        tree.Env["CUDA_PATH"] = $@"{Toolkits}\v13.0";
        var driver = tree.File(@"C:\Windows\System32\nvcuda.dll");
        var cublas = tree.File($@"{Toolkits}\v13.0\bin\x64\cublas64_13.dll");
        tree.File($@"{Toolkits}\v12.4\bin\cublas64_12.dll");

        var search = Search(tree);

        Assert.That(search.Locate(Win.Driver).Path, Is.EqualTo(driver));
        Assert.That(search.Locate(Win.Cublas).Path, Is.EqualTo(cublas));
        Assert.That(Win.CublasLtFor("cublas64_13.dll"), Is.EqualTo("cublasLt64_13.dll"));
    }

    [Test]
    public void Windows_names_and_folders_are_case_insensitive_and_listed_once()
    {
        var tree = WindowsTree();
        var toolkit = $@"{Toolkits}\v12.4";
        tree.File($@"{toolkit}\bin\CUBLAS64_12.DLL");
        tree.Env["PATH"] = $@"{toolkit}\BIN\;{toolkit}\bin";
        tree.Env["CUDA_PATH"] = toolkit;

        var search = Search(tree);

        Assert.That(search.Folders().Count(f => f.Equals($@"{toolkit}\bin", StringComparison.OrdinalIgnoreCase)), Is.EqualTo(1));
        Assert.That(search.Locate(Win.Cublas).Found, Is.True);
    }

    [Test]
    public void Windows_override_variable_wins_and_is_separated_by_semicolons()
    {
        var tree = WindowsTree();
        tree.Env["CUDA_PATH"] = $@"{Toolkits}\v13.0";
        tree.File($@"{Toolkits}\v13.0\bin\x64\cublas64_13.dll");
        var mine = tree.File(@"E:\cuda libs\cublas64_12.dll");
        tree.Env[LibrarySearch.OverrideVariable] = @"E:\nothing here;E:\cuda libs";

        Assert.That(Search(tree).Locate(Win.Cublas).Path, Is.EqualTo(mine));
    }

    [Test]
    public void Windows_cudnn_is_found_in_venv_and_user_site_wheels()
    {
        var tree = WindowsTree();
        tree.Env[LibrarySearch.VenvVariable] = @"D:\envs\torch";
        var venv = tree.File(@"D:\envs\torch\Lib\site-packages\nvidia\cudnn\bin\cudnn64_9.dll");
        Assert.That(Search(tree).Locate(Win.Cudnn).Path, Is.EqualTo(venv));

        var user = WindowsTree();
        var site = user.File(@"C:\Users\me\AppData\Roaming\Python\Python311\site-packages\nvidia\cudnn\bin\cudnn64_9.dll");
        Assert.That(Search(user).Locate(Win.Cudnn).Path, Is.EqualTo(site));

        var homeVenv = WindowsTree();
        var dotVenv = homeVenv.File(@"C:\Users\me\.venv\Lib\site-packages\nvidia\cudnn\bin\cudnn64_9.dll");
        Assert.That(Search(homeVenv, @"C:\Users\me").Locate(Win.Cudnn).Path, Is.EqualTo(dotVenv));
    }

    [Test]
    public void Windows_cudnn_installer_folder_for_the_newest_cuda_wins()
    {
        var tree = WindowsTree();
        tree.File($@"{ProgramFiles}\NVIDIA\CUDNN\v9.3\bin\11.8\cudnn64_9.dll");
        var newest = tree.File($@"{ProgramFiles}\NVIDIA\CUDNN\v9.3\bin\12.6\cudnn64_9.dll");

        Assert.That(Search(tree).Locate(Win.Cudnn).Path, Is.EqualTo(newest));
    }

    [Test]
    public void Windows_miss_names_the_dll_and_lists_folders_like_PATH()
    {
        var tree = WindowsTree();
        tree.Folder(@"C:\Windows\System32");
        tree.Folder($@"{Toolkits}\v12.4\bin");
        var search = Search(tree);

        var where = search.Locate(Win.Cudnn);
        var message = search.NotFoundMessage(Win.Cudnn, where);

        Assert.That(where.Found, Is.False);
        Assert.That(message, Does.Contain("cudnn64_9.dll"));
        Assert.That(message, Does.Contain($@"{Toolkits}\v12.4\bin;C:\Windows\System32"));
        Assert.That(message, Does.Contain(LibrarySearch.OverrideVariable));
    }

    [Test]
    public void Linux_rules_as_data_give_the_same_order_as_on_a_real_tree()
    {
        var tree = new FakeFileTree(OsFamily.Linux, new() { ["LD_LIBRARY_PATH"] = "/opt/ld:/nowhere", ["CUDA_HOME"] = "/opt/cuda" });
        tree.Env[LibrarySearch.OverrideVariable] = "/srv/mine";
        foreach (var f in new[]
                 {
                     "/srv/mine", "/opt/ld", "/opt/cuda/targets/x86_64-linux/lib", "/usr/local/cuda-12.4/lib64",
                     "/usr/local/cuda-13.0/targets/x86_64-linux/lib", "/usr/lib/x86_64-linux-gnu",
                     "/home/me/.local/lib/python3.12/site-packages/nvidia/cudnn/lib",
                 })
            tree.Folder(f);

        Assert.That(Search(tree, "/home/me").Folders(), Is.EqualTo(new[]
        {
            "/srv/mine", "/opt/ld", "/opt/cuda/targets/x86_64-linux/lib", "/usr/local/cuda-13.0/targets/x86_64-linux/lib",
            "/usr/local/cuda-12.4/lib64", "/usr/lib/x86_64-linux-gnu", "/home/me/.local/lib/python3.12/site-packages/nvidia/cudnn/lib",
        }));
    }

    [Test]
    public void Linux_names_are_case_sensitive()
    {
        var tree = new FakeFileTree(OsFamily.Linux);
        tree.File("/usr/lib/x86_64-linux-gnu/LIBCUDA.SO.1");

        Assert.That(Search(tree).Locate(NativeLibraryNames.Linux.Driver).Found, Is.False);
    }
}
