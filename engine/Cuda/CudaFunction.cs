namespace Engine.Cuda;

/// <summary>A kernel entry point of a loaded module (CUfunction) with its name for error messages.</summary>
public sealed class CudaFunction
{
    internal CudaFunction(string name, nint handle)
    {
        Name = name;
        Handle = handle;
    }

    public string Name { get; }
    internal nint Handle { get; }
    public override string ToString() => Name;
}
