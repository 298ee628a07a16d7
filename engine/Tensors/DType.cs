namespace Engine.Tensors;

/// <summary>Element type of a tensor. Float values use the backend's precision; Int32 holds labels and argmax indices.</summary>
public enum DType { Float32, Float64, Int32 }

public static class DTypes
{
    public static int Size(this DType t) => t == DType.Float64 ? 8 : 4;
    public static bool IsFloat(this DType t) => t != DType.Int32;
}
