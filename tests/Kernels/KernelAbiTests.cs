namespace Engine.Tests.Kernels;

/// <summary>
/// kernels/ABI.md is the contract the CUDA backend launches against: it must name every kernel
/// the sources define, in the right module, and the built PTX must have each with exactly the
/// documented parameter types (a drifted ABI shows up here, not as a corrupted launch on a GPU).
/// </summary>
public class KernelAbiTests
{
    private static IReadOnlyList<AbiEntry> Abi() =>
        AbiDocument.Parse(File.ReadAllText(Path.Combine(KernelFiles.KernelsDir, "ABI.md")));

    [Test]
    public void Abi_documents_exactly_the_kernels_the_sources_define_in_their_modules()
    {
        var abi = Abi();
        Assert.That(abi, Is.Not.Empty, "no '### name' + '`(params)`' sections found in ABI.md");
        var defined = Directory.GetFiles(KernelFiles.KernelsDir, "*.cu")
            .SelectMany(f => KernelFiles.SourceEntries(File.ReadAllText(f)).Select(e => (Name: e, Module: Path.GetFileNameWithoutExtension(f))))
            .ToList();
        Assert.That(defined.Select(d => d.Name), Is.Unique, "an entry point name is defined twice");
        Assert.That(abi.Select(e => e.Name), Is.EquivalentTo(defined.Select(d => d.Name)));
        foreach (var (name, module) in defined)
            Assert.That(abi.Single(e => e.Name == name).Module, Is.EqualTo(module), $"module table row for {name}");
    }

    [Test]
    public void Every_abi_entry_is_in_the_built_ptx_with_the_documented_parameters()
    {
        var ptx = KernelFiles.RequireBuiltPtx();
        var entries = ptx.ToDictionary(p => p.Key, p => KernelFiles.PtxEntries(p.Value));
        foreach (var e in Abi())
        {
            Assert.That(entries, Does.ContainKey(e.Module), $"{e.Name}: module {e.Module}.ptx was not built");
            Assert.That(entries[e.Module], Does.ContainKey(e.Name), $"{e.Name} is not an .entry of {e.Module}.ptx");
            Assert.That(entries[e.Module][e.Name], Is.EqualTo(e.PtxTypes), $"{e.Name}: PTX parameters vs ABI.md ({string.Join(", ", e.ParameterTypes)})");
        }
    }

    [Test]
    public void Built_ptx_targets_sm_80_so_the_driver_can_jit_it_for_any_newer_gpu()
    {
        foreach (var (module, text) in KernelFiles.RequireBuiltPtx())
            Assert.That(text, Does.Match(@"(?m)^\.target\s+sm_80\b"), $"{module}.ptx");
    }

    [Test]
    public void Engine_assembly_embeds_every_built_module_under_its_documented_name()
    {
        var built = KernelFiles.RequireBuiltPtx();
        var assembly = typeof(Engine.Tensors.Rng).Assembly;
        var embedded = assembly.GetManifestResourceNames().Where(n => n.EndsWith(".ptx", StringComparison.Ordinal)).ToArray();
        Assert.That(embedded, Is.EquivalentTo(built.Keys.Select(m => $"Engine.Kernels.{m}.ptx")),
            "rebuild the engine after tools/setup/build-kernels.sh (./build.sh does both)");
        foreach (var (module, text) in built)
        {
            using var stream = assembly.GetManifestResourceStream($"Engine.Kernels.{module}.ptx")!;
            using var reader = new StreamReader(stream);
            Assert.That(reader.ReadToEnd(), Is.EqualTo(text), $"embedded {module}.ptx is stale");
        }
    }
}
