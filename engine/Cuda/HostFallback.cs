using Engine.Graph;
using Engine.Tensors;

namespace Engine.Cuda;

/// <summary>
/// Runs a node's CPU reference (float32) on host copies of its device data: the path of ops
/// without a GPU implementation and of rare cases a GPU path leaves out. Correct but slow (it
/// waits for the stream and copies every slice both ways); <see cref="CudaBackend.HostFallbacks"/>
/// lists where it was used.
/// </summary>
internal sealed class HostFallback : IDisposable
{
    private readonly CudaNode _node;
    private readonly CpuBackend<float> _cpu = new();
    private readonly NodeRun _host;
    private readonly NodeRun _device;

    public HostFallback(CudaNode node)
    {
        _node = node;
        _device = node.Run;
        _host = new NodeRun(_device.Node)
        {
            InShapes = _device.InShapes,
            OutShapes = _device.OutShapes,
            InDescs = _device.InDescs.Select(d => d.Type.IsFloat() ? d with { Type = DataType.F32 } : d).ToArray(),
            OutDescs = _device.OutDescs.Select(d => d.Type.IsFloat() ? d with { Type = DataType.F32 } : d).ToArray(),
            In = _device.In.Select(Mirror).ToArray(),
            Out = _device.Out.Select(Mirror).ToArray(),
            InGrad = _device.InGrad.Select(s => s is { } g ? Mirror(g) : (BufferSlice?)null).ToArray(),
            OutGrad = _device.OutGrad.Select(s => s is { } g ? Mirror(g) : (BufferSlice?)null).ToArray(),
            Params = _device.Params.Select(Mirror).ToArray(),
            ParamGrads = _device.ParamGrads.Select(Mirror).ToArray(),
            States = _device.States.Select(Mirror).ToArray(),
            InStrides = _device.InStrides,
            OutStrides = _device.OutStrides,
            InAliasesOutput = _device.InAliasesOutput,
            SavedScratch = _device.SavedScratch is { } saved ? Mirror(saved) : null,
        };
    }

    private BufferSlice Mirror(BufferSlice s) => BufferSlice.Whole(_cpu.Allocate(s.Count, s.Type));

    public void Run(bool forward)
    {
        _host.Training = _device.Training;
        _host.Batch = _device.Batch;
        _host.Seed = _device.Seed;
        _host.Step = _device.Step;
        if (forward)
        {
            ToHost(_device.In, _host.In);
            ToHost(_device.Params, _host.Params);
            ToHost(_device.States, _host.States);
            _cpu.Forward(_host);
            ToDevice(_host.Out, _device.Out);
            if (_host.SavedScratch is { } savedOut) ToDevice(savedOut, _device.SavedScratch!.Value);
            ToDevice(_host.States, _device.States);
            return;
        }
        ToHost(_device.In, _host.In);
        ToHost(_device.Out, _host.Out);
        ToHost(_device.OutGrad, _host.OutGrad);
        ToHost(_device.InGrad, _host.InGrad);
        ToHost(_device.Params, _host.Params);
        ToHost(_device.ParamGrads, _host.ParamGrads);
        ToHost(_device.States, _host.States);
        if (_host.SavedScratch is { } savedIn) ToHost(_device.SavedScratch!.Value, savedIn);
        _host.InGradOverwrite = _device.InGradOverwrite;
        _cpu.Backward(_host);
        ToDevice(_host.InGrad, _device.InGrad);
        ToDevice(_host.ParamGrads, _device.ParamGrads);
    }

    private void ToHost(BufferSlice?[] device, BufferSlice?[] host)
    {
        for (int i = 0; i < device.Length; i++)
            if (device[i] is { } d && host[i] is { } h) ToHost(d, h);
    }

    private void ToHost(BufferSlice[] device, BufferSlice[] host)
    {
        for (int i = 0; i < device.Length; i++) ToHost(device[i], host[i]);
    }

    private void ToHost(BufferSlice d, BufferSlice h)
    {
        if (h.Type == DataType.I32) _node.Backend.Download(d, CpuBackend<float>.I(h));
        else _node.Backend.Download(d, CpuBackend<float>.F(h));
    }

    private void ToDevice(BufferSlice?[] host, BufferSlice?[] device)
    {
        for (int i = 0; i < host.Length; i++)
            if (host[i] is { } h && device[i] is { } d) ToDevice(h, d);
    }

    private void ToDevice(BufferSlice[] host, BufferSlice[] device)
    {
        for (int i = 0; i < host.Length; i++) ToDevice(host[i], device[i]);
    }

    private void ToDevice(BufferSlice h, BufferSlice d)
    {
        if (h.Type == DataType.I32) _node.Backend.Upload(d, CpuBackend<float>.I(h));
        else _node.Backend.Upload(d, CpuBackend<float>.F(h));
    }

    public void Dispose()
    {
        foreach (var s in _host.In.Concat(_host.Out).Concat(_host.Params).Concat(_host.ParamGrads).Concat(_host.States)) s.Buffer.Dispose();
        foreach (var s in _host.InGrad.Concat(_host.OutGrad).Append(_host.SavedScratch)) s?.Buffer.Dispose();
        _cpu.Dispose();
    }
}
