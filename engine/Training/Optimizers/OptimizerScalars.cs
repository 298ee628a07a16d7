using Engine.Graph;
using Buffer = Engine.Graph.Buffer;

namespace Engine.Training.Optimizers;

/// <summary>The per-step scalars an optimizer kernel reads from the backend's memory: the optimizer's own slice, or a temporary one.</summary>
internal readonly struct OptimizerScalars(BufferSlice slice, Buffer? temporary) : IDisposable
{
    public BufferSlice Slice => slice;

    /// <summary><paramref name="given"/> (already holding the values) when there is one, else a temporary buffer holding <paramref name="values"/>.</summary>
    public static OptimizerScalars For(Backend backend, BufferSlice? given, float[] values)
    {
        if (given is { } g) return new OptimizerScalars(g, null);
        var temporary = backend.AllocateFloats(values.Length);
        var s = BufferSlice.Whole(temporary);
        backend.Upload(s, values);
        return new OptimizerScalars(s, temporary);
    }

    public void Dispose() => temporary?.Dispose();
}
