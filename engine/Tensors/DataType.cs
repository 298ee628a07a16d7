namespace Engine.Tensors;

/// <summary>Element type of a tensor in memory.</summary>
public enum DataType { F64, F32, BF16, F16, I32, U8 }

/// <summary>How a 4-D tensor's logical NCHW shape is laid out in memory (shapes stay NCHW, as PyTorch's channels_last).</summary>
public enum Layout { Nchw, Nhwc }

public static class DataTypes
{
    public static int Size(this DataType t) => t switch
    {
        DataType.F64 => 8,
        DataType.F32 or DataType.I32 => 4,
        DataType.BF16 or DataType.F16 => 2,
        DataType.U8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown data type"),
    };

    public static bool IsFloat(this DataType t) => t is DataType.F64 or DataType.F32 or DataType.BF16 or DataType.F16;

    /// <summary>The dtype string of safetensors and PyTorch ("F32", "BF16", "I32", ...).</summary>
    public static string SafeTensorsName(this DataType t) => t switch
    {
        DataType.U8 => "U8",
        _ => t.ToString(),
    };

    /// <summary>The element type a safetensors dtype string names, or null for one the engine does not hold.</summary>
    public static DataType? FromSafeTensorsName(string name) => name switch
    {
        "F64" => DataType.F64,
        "F32" => DataType.F32,
        "BF16" => DataType.BF16,
        "F16" => DataType.F16,
        "I32" => DataType.I32,
        "U8" => DataType.U8,
        _ => null,
    };
}

/// <summary>A tensor's logical shape (NCHW order), element type and memory layout.</summary>
public readonly record struct TensorDesc(Shape Shape, DataType Type, Layout Layout = Layout.Nchw)
{
    public long Bytes => Shape.Numel * Type.Size();
    public override string ToString() => $"{Shape} {Type}{(Layout == Layout.Nhwc ? " nhwc" : "")}";
}
