using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>The library search on a fake file tree: which folders, in which order, and what a miss says.</summary>
public class LibrarySearchTests
{
    private string _root = "";
    private string _home = "";

    [SetUp]
    public void CreateTree()
    {
        _root = Path.Combine(Path.GetTempPath(), "libsearch-" + Guid.NewGuid().ToString("N"));
        _home = Path.Combine(_root, "home/user");
        Directory.CreateDirectory(_home);
    }

    [TearDown]
    public void RemoveTree() => Directory.Delete(_root, recursive: true);

    private string Touch(string relative)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "not really a library");
        return path;
    }

    private LibrarySearch Search(Dictionary<string, string>? env = null) =>
        new(name => env is not null && env.TryGetValue(name, out var v) ? v : null, _root, _home);

    [Test]
    public void NewestToolkitFolderComesFirst()
    {
        Touch("usr/local/cuda-9.2/targets/x86_64-linux/lib/libcublas.so.11");
        var newest = Touch("usr/local/cuda-12.4/targets/x86_64-linux/lib/libcublas.so.12");
        Touch("usr/lib/x86_64-linux-gnu/libcublas.so.11");

        var found = Search().Locate(NativeLibraryNames.Linux.Cublas);

        Assert.That(found.Path, Is.EqualTo(newest));
    }

    [Test]
    public void OverrideVariableWinsOverNewerVersionsElsewhere()
    {
        Touch("usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublas.so.13");
        var mine = Touch("mine/libcublas.so.11");

        var found = Search(new() { [LibrarySearch.OverrideVariable] = Path.Combine(_root, "mine") }).Locate(NativeLibraryNames.Linux.Cublas);

        Assert.That(found.Path, Is.EqualTo(mine));
        Assert.That(found.SearchedFolders[0], Is.EqualTo(Path.Combine(_root, "mine")));
    }

    [Test]
    public void LdLibraryPathComesBeforeTheToolkitsButAfterTheOverride()
    {
        var ld = Touch("ld/libcuda.so.1");
        Touch("usr/lib/x86_64-linux-gnu/libcuda.so.1");
        Directory.CreateDirectory(Path.Combine(_root, "override"));
        var env = new Dictionary<string, string>
        {
            [LibrarySearch.OverrideVariable] = Path.Combine(_root, "override"),
            ["LD_LIBRARY_PATH"] = Path.Combine(_root, "missing") + ":" + Path.Combine(_root, "ld"),
        };

        var found = Search(env).Locate(NativeLibraryNames.Linux.Driver);

        Assert.That(found.Path, Is.EqualTo(ld));
        Assert.That(found.SearchedFolders.Take(2), Is.EqualTo(new[] { Path.Combine(_root, "override"), Path.Combine(_root, "ld") }));
    }

    [Test]
    public void PreferredFileNameWinsWithinAFolder()
    {
        Touch("usr/lib/x86_64-linux-gnu/libcublas.so.11");
        var v12 = Touch("usr/lib/x86_64-linux-gnu/libcublas.so.12");

        Assert.That(Search().Locate(NativeLibraryNames.Linux.Cublas).Path, Is.EqualTo(v12));
    }

    [Test]
    public void FindsCudnnInPythonWheelsOfSystemAndUserInstalls()
    {
        var system = Touch("usr/lib/python3.11/dist-packages/nvidia/cudnn/lib/libcudnn.so.9");
        Assert.That(Search().Locate(NativeLibraryNames.Linux.Cudnn).Path, Is.EqualTo(system));

        File.Delete(system);
        var user = Path.Combine(_home, ".local/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9");
        Directory.CreateDirectory(Path.GetDirectoryName(user)!);
        File.WriteAllText(user, "");
        Assert.That(Search().Locate(NativeLibraryNames.Linux.Cudnn).Path, Is.EqualTo(user));
    }

    [Test]
    public void VenvVariableAddsThatEnvironmentsWheels()
    {
        var cublas = Touch("envs/torch/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13");
        var cudnn = Touch("envs/torch/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9");
        var search = Search(new() { [LibrarySearch.VenvVariable] = Path.Combine(_root, "envs/torch") });

        Assert.That(search.Locate(NativeLibraryNames.Linux.Cublas).Path, Is.EqualTo(cublas));
        Assert.That(search.Locate(NativeLibraryNames.Linux.Cudnn).Path, Is.EqualTo(cudnn));
        Assert.That(Search().Locate(NativeLibraryNames.Linux.Cudnn).Found, Is.False, "without the variable that venv is not searched");
    }

    [Test]
    public void FoldersAreListedOnceAndOnlyWhenTheyExist()
    {
        Touch("usr/lib/x86_64-linux-gnu/libcuda.so.1");
        var gnu = Path.Combine(_root, "usr/lib/x86_64-linux-gnu");
        var env = new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = gnu + ":" + gnu + "/:" + Path.Combine(_root, "nowhere") };

        var folders = Search(env).Folders();

        Assert.That(folders, Is.EqualTo(new[] { gnu }));
    }

    [Test]
    public void MissingLibraryMessageNamesTheFilesTheFoldersAndTheOverride()
    {
        Directory.CreateDirectory(Path.Combine(_root, "usr/lib/x86_64-linux-gnu"));
        Directory.CreateDirectory(Path.Combine(_root, "usr/local/cuda-12.4/targets/x86_64-linux/lib"));
        var search = Search();

        var where = search.Locate(NativeLibraryNames.Linux.Cudnn);
        var message = search.NotFoundMessage(NativeLibraryNames.Linux.Cudnn, where);

        Assert.That(where.Found, Is.False);
        Assert.That(message, Does.Contain("libcudnn.so.9"));
        Assert.That(message, Does.Contain(Path.Combine(_root, "usr/lib/x86_64-linux-gnu")));
        Assert.That(message, Does.Contain(Path.Combine(_root, "usr/local/cuda-12.4/targets/x86_64-linux/lib")));
        Assert.That(message, Does.Contain(LibrarySearch.OverrideVariable));
        Assert.That(message, Does.Not.Contain("\n"));
    }

    [Test]
    public void RejectedCandidatesAreSkippedAndReported()
    {
        var bad = Touch("ld/libcublas.so.13");
        var good = Touch("usr/lib/x86_64-linux-gnu/libcublas.so.11");
        var search = Search(new() { ["LD_LIBRARY_PATH"] = Path.Combine(_root, "ld") });

        var found = search.Locate(NativeLibraryNames.Linux.Cublas, p => p == bad ? "wrong architecture" : null);

        Assert.That(found.Path, Is.EqualTo(good));
        Assert.That(found.Rejected, Has.Count.EqualTo(1).And.Some.Contains("wrong architecture"));
    }

    [Test]
    public void VersionedFoldersSortNumerically()
    {
        var sorted = LibrarySearch.NewestFirst(["/x/cuda-9.2", "/x/cuda-12.4", "/x/cuda-12.10", "/x/cuda-11.8"]).ToArray();
        Assert.That(sorted, Is.EqualTo(new[] { "/x/cuda-12.10", "/x/cuda-12.4", "/x/cuda-11.8", "/x/cuda-9.2" }));
    }
}
