using Engine.Graph;
using Engine.Tensors;

namespace Engine.Cuda;

/// <summary>Metric kernels (kernels/reduce.cu: class_rank_f32, confusion_f32) on the device that holds the logits.</summary>
public sealed partial class CudaBackend : IMetricKernels
{
    public void ClassRanks(BufferSlice ranks, BufferSlice logits, BufferSlice labels, int n, int classes)
    {
        Expect(ranks, DataType.I32, n); Expect(logits, DataType.F32, (long)n * classes); Expect(labels, DataType.I32, n);
        Device.MakeCurrent();
        var a = new KernelArgs();
        a.Add(Ptr(ranks)); a.Add(Ptr(logits)); a.Add(Ptr(labels)); a.Add(n); a.Add(classes);
        // One warp per row: 8 rows per block of 256.
        var blocks = (uint)Math.Clamp((n + 7L) / 8, 1, 32L * Device.Info.Multiprocessors);
        Stream.Launch(Kernels.Get("class_rank_f32"), blocks, CudaNode.BlockSize, ref a);
    }

    public void Confusion(BufferSlice counts, BufferSlice logits, BufferSlice labels, int n, int classes, int plane, int ignoreLabel)
    {
        long elements = (long)n * plane;
        Expect(counts, DataType.I32, (long)classes * classes); Expect(logits, DataType.F32, elements * classes); Expect(labels, DataType.I32, elements);
        Device.MakeCurrent();
        uint sharedBytes = (uint)(classes * classes * 4);
        bool useShared = sharedBytes <= 48 * 1024;
        var a = new KernelArgs();
        a.Add(Ptr(counts)); a.Add(Ptr(logits)); a.Add(Ptr(labels));
        a.Add(n); a.Add(classes); a.Add(plane); a.Add(ignoreLabel); a.Add(useShared ? 1 : 0);
        var blocks = (uint)Math.Clamp((elements + CudaNode.BlockSize - 1) / CudaNode.BlockSize, 1, 32L * Device.Info.Multiprocessors);
        Stream.Launch(Kernels.Get("confusion_f32"), blocks, CudaNode.BlockSize, ref a, useShared ? sharedBytes : 0);
    }

    private static void Expect(BufferSlice s, DataType type, long count)
    {
        if (s.Type != type || s.Count != count)
            throw new ArgumentException($"metric kernel: expected {count} {type} elements, got {s.Count} {s.Type}");
    }
}
