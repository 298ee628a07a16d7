using Engine.Graph;
using Engine.Nets;
using Engine.Weights;

namespace Engine.Inference;

/// <summary>
/// A net built from a <see cref="ModelSpec"/> with a weights file's tensors on a backend. The
/// file may be the engine's own or another library's layout (<see cref="NameMap"/>); every tensor
/// of the net must come from it.
/// </summary>
public sealed class LoadedNet : IDisposable
{
    private LoadedNet(ModelSpec spec, NetInfo info, Graph.Graph graph, Backend backend, ParameterBuffers parameters, string weights, ImportReport import)
    {
        Spec = spec; Info = info; Graph = graph; Backend = backend; Parameters = parameters; WeightsFile = weights; Import = import;
    }

    /// <summary>The spec as built: the class count and adaptive pooling settled from the file where the spec left them open.</summary>
    public ModelSpec Spec { get; }
    public NetInfo Info { get; }
    public Graph.Graph Graph { get; }
    public Backend Backend { get; }
    public ParameterBuffers Parameters { get; }
    public string WeightsFile { get; }
    public ImportReport Import { get; }
    public bool Segmentation => Info.Segmentation;
    public Tensors.Shape Input => Graph.Input("image").Shape.DropFirst();

    /// <summary>Builds the net and loads <paramref name="weightsFile"/>; the backend is owned from here on (disposed on failure too).</summary>
    /// <exception cref="InvalidDataException">The file is unreadable or does not fit the net (every problem listed).</exception>
    public static LoadedNet Load(string weightsFile, ModelSpec spec, Backend backend)
    {
        ParameterBuffers? parameters = null;
        try
        {
            var info = NetRegistry.Find(spec.Net);
            spec = Settle(weightsFile, spec);
            var graph = NetRegistry.Build(info.Name, spec.NetOptions());
            parameters = new ParameterBuffers(graph, backend, gradients: false, initialize: false);
            var import = WeightImport.Load(weightsFile, parameters, ImportMode.Strict);
            if (import.Head is { } head)
                throw new InvalidDataException($"{weightsFile}: the head {head.NetName} has {head.FileShape[0]} classes, the net {head.NetShape[0]}");
            return new LoadedNet(spec, info, graph, backend, parameters, weightsFile, import);
        }
        catch
        {
            parameters?.Dispose();
            backend.Dispose();
            throw;
        }
    }

    /// <summary>A torchvision VGG file brings its adaptive pooling; an open class count is the file's head's.</summary>
    private static ModelSpec Settle(string weightsFile, ModelSpec spec)
    {
        if (WeightImport.LayoutOf(weightsFile) == NameMap.TorchvisionVgg) spec = spec with { AdaptivePool = true };
        if (spec.Classes is null)
        {
            var probe = NetRegistry.Build(spec.Net, spec.NetOptions());
            if (WeightImport.HeadClasses(weightsFile, probe) is int classes) spec = spec with { Classes = classes };
        }
        return spec;
    }

    public void Dispose()
    {
        Parameters.Dispose();
        Backend.Dispose();
    }
}
