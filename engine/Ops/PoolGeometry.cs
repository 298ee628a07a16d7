using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Square pooling windows over NCHW planes with PyTorch's shape rule: implicit padding on both
/// sides, at most half the kernel; in ceil mode an extra window is kept only when it starts
/// inside the input or its left padding.
/// </summary>
internal readonly record struct PoolGeometry(int Kernel, int Stride, int Padding, bool CeilMode)
{
    /// <summary>"3x3/2", the size column of layer tables.</summary>
    public string Describe() => $"{Kernel}x{Kernel}/{Stride}";

    /// <summary>Output shape for an NCHW input; a <see cref="ShapeException"/> for configurations with no output.</summary>
    public Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ShapeException($"expects an NCHW input, got {input.DropFirst()}");
        if (Kernel < 1) throw new ShapeException($"kernel must be at least 1, got {Kernel}");
        if (Stride < 1) throw new ShapeException($"stride must be at least 1, got {Stride}");
        if (Padding < 0) throw new ShapeException($"padding must not be negative, got {Padding}");
        if (Padding > Kernel / 2)
            throw new ShapeException($"padding {Padding} is more than half the kernel {Kernel}: a window could lie in the padding only");
        int h = OutputSize(input[2]), w = OutputSize(input[3]);
        if (h < 1 || w < 1)
            throw new ShapeException($"a {Describe()} window with padding {Padding} does not fit the {input[2]}x{input[3]} input (output would be {h}x{w})");
        return new Shape(input[0], input[1], h, w);
    }

    public int OutputSize(int input)
    {
        int span = input + 2 * Padding - Kernel;
        if (span < 0) return 0;
        int size = (CeilMode ? (span + Stride - 1) / Stride : span / Stride) + 1;
        if (CeilMode && (size - 1) * Stride >= input + Padding) size--;
        return size;
    }

    /// <summary>First input row (or column) of window <paramref name="o"/>, possibly in the padding (negative).</summary>
    public int Start(int o) => o * Stride - Padding;

    /// <summary>The windows, along one axis, that contain input position <paramref name="i"/>: [First, Last], empty when First &gt; Last.</summary>
    public (int First, int Last) WindowsContaining(int i, int outputSize)
    {
        int first = i + Padding < Kernel ? 0 : (i + Padding - Kernel) / Stride + 1;
        int last = Math.Min((i + Padding) / Stride, outputSize - 1);
        return (first, last);
    }
}
