using Engine.Weights;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Training.Checkpoints;

/// <summary>
/// A net's weights as a safetensors file: every parameter and every state (BN running
/// statistics) under the engine's dotted names, F32 (F64 from a float64 backend).
/// </summary>
public static class WeightFile
{
    public static void Save(string path, ParameterBuffers p, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = Views(p).Select(x => Entry(p.Backend, p.Slice(x.Buffer, x.View), x.View.Name, x.View.Shape)).ToList();
        AtomicFile.Write(path, s => SafeTensors.Write(s, entries, metadata));
    }

    /// <summary>A tensor entry that downloads <paramref name="slice"/> when it is written.</summary>
    public static SafeTensors.Entry Entry(Backend backend, BufferSlice slice, string name, Shape shape) =>
        backend.FloatType == DataType.F64
            ? new(name, shape, StreamedDType: "F64", WriteTo: s => Download<double>(backend, slice, s))
            : new(name, shape, StreamedDType: "F32", WriteTo: s => Download<float>(backend, slice, s));

    /// <summary>Writes the slice's values to the stream a million at a time.</summary>
    private static void Download<T>(Backend backend, BufferSlice slice, Stream stream) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing needs a little-endian machine");
        var chunk = new T[Math.Min(slice.Count, 1 << 20)];
        int size = slice.Type.Size();
        for (long done = 0; done < slice.Count; done += chunk.Length)
        {
            int n = (int)Math.Min(chunk.Length, slice.Count - done);
            var part = new BufferSlice(slice.Buffer, slice.ByteOffset + done * size, n, slice.Type);
            if (chunk is float[] f) backend.Download(part, f.AsSpan(0, n));
            else backend.Download(part, ((double[])(object)chunk).AsSpan(0, n));
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(chunk.AsSpan(0, n)));
        }
    }

    /// <summary>Loads every parameter and state; any name missing or of another shape is an error (resuming a run).</summary>
    public static IReadOnlyDictionary<string, string> LoadExact(string path, ParameterBuffers p) =>
        WeightImport.Load(path, p, ImportMode.Exact).Metadata;

    /// <summary>
    /// Saves the net's tensors under another library's names (<paramref name="layout"/>), e.g.
    /// torchvision's, for loading there; tensors the layout lacks are left out.
    /// </summary>
    public static int SaveAs(string path, ParameterBuffers p, NameMap layout)
    {
        var names = layout.FileNames(p.Graph);
        var entries = Views(p).Where(x => names.ContainsKey(x.View.Name))
            .Select(x => Entry(p.Backend, p.Slice(x.Buffer, x.View), names[x.View.Name], x.View.Shape)).ToList();
        AtomicFile.Write(path, s => SafeTensors.Write(s, entries));
        return entries.Count;
    }

    private static IEnumerable<(Engine.Graph.Buffer Buffer, ParamView View)> Views(ParameterBuffers p) =>
        p.Graph.Parameters.Views.Select(v => (p.Values, v)).Concat(p.Graph.States.Views.Select(v => (p.States, v)));
}
