using Engine.Cuda;
using Engine.Tensors;

namespace Bench;

/// <summary>
/// One kernel (or the few launches of one op direction) at one shape: set up inputs on the GPU,
/// validate against the CPU reference op, then be timed. <see cref="Bytes"/> is the compulsory
/// DRAM traffic (each input read once, each output written once), the basis of GB/s.
/// </summary>
internal abstract class Case(string kernel, string direction, Shape shape)
{
    public string Kernel { get; } = kernel;
    public string Direction { get; } = direction;
    public Shape Shape { get; } = shape;
    public abstract long Bytes { get; }

    /// <summary>Allocates and uploads the inputs.</summary>
    public abstract void Setup(Gpu gpu);

    /// <summary>The timed work: only kernel launches, no allocation or host sync.</summary>
    public abstract void Run(Gpu gpu);

    /// <summary>Runs once from a clean state and compares every output with the CPU reference.</summary>
    public abstract bool Validate(Gpu gpu);

    public override string ToString() => $"{Kernel} {Direction} {Shape}";

    protected static int Block => 256;

    protected static KernelArgs Args() => new();
}
