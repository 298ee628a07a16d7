using Engine.Graph;

namespace Engine.Ops;

/// <summary>
/// One layer type. An op is stateless configuration: its shape rule, its parameters, and its
/// CPU reference forward and backward (generic over float and double) live in one file
/// (<see cref="OpBase"/>'s members); its GPU path lives beside it in a partial class
/// (<c>Name.Cuda.cs</c>, <see cref="Op.ForwardCuda"/>).
/// </summary>
public abstract partial class Op : OpBase
{
    protected static ShapeException Bad(string message) => new(message);
}
