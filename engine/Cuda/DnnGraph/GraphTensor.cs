using Engine.Cuda.Native;

namespace Engine.Cuda.DnnGraph;

/// <summary>Element types a graph tensor may have (cudnnDataType_t values).</summary>
public enum GraphDataType
{
    Float = Cudnn.DataFloat,
    Half = Cudnn.DataHalf,
    BFloat16 = Cudnn.DataBfloat16,
}

/// <summary>How a 4-d activation or filter lies in memory; the graph API sees only its strides.</summary>
public enum GraphLayout { Nchw, Nhwc }

/// <summary>
/// A backend tensor: dimensions always in N, C, H, W order (K, C, R, S for filters), the layout
/// in the strides, a unique id that the variant pack binds a pointer to, and the alignment in
/// bytes that every pointer bound to it is guaranteed to have.
/// </summary>
public sealed record GraphTensor(long Uid, long[] Dims, long[] Strides, GraphDataType DataType, long Alignment)
{
    /// <param name="sampleStride">Elements from one sample to the next when larger than c*h*w (a channel slice of a concatenation); 0: packed.</param>
    public static GraphTensor Activation(long uid, GraphLayout layout, long n, long c, long h, long w, long sampleStride = 0,
        GraphDataType type = GraphDataType.Float, long alignment = 16)
    {
        long ns = sampleStride == 0 ? c * h * w : sampleStride;
        long[] strides = layout == GraphLayout.Nchw ? [ns, h * w, w, 1] : [ns, 1, w * c, c];
        return new GraphTensor(uid, [n, c, h, w], strides, type, alignment);
    }

    /// <summary>A filter [k, c, r, s]: KCRS for NCHW, KRSC for NHWC.</summary>
    public static GraphTensor Filter(long uid, GraphLayout layout, long k, long c, long r, long s,
        GraphDataType type = GraphDataType.Float, long alignment = 16) => Activation(uid, layout, k, c, r, s, 0, type, alignment);

    public BackendDescriptor Build(IBackendApi api)
    {
        var d = new BackendDescriptor(api, BackendDescriptorType.Tensor);
        try
        {
            return d.SetEnum(BackendAttribute.TensorDataType, BackendAttributeType.DataType, (int)DataType)
                .Set(BackendAttribute.TensorDimensions, Dims)
                .Set(BackendAttribute.TensorStrides, Strides)
                .Set(BackendAttribute.TensorUniqueId, Uid)
                .Set(BackendAttribute.TensorByteAlignment, Alignment)
                .Finalize();
        }
        catch
        {
            d.Dispose();
            throw;
        }
    }

    /// <summary>The largest power of two up to 16 that divides <paramref name="address"/>: what a tensor bound to it may promise.</summary>
    public static long AlignmentOf(ulong address)
    {
        long a = 16;
        while (a > 1 && address % (ulong)a != 0) a /= 2;
        return a;
    }
}
