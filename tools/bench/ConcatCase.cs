using Engine.Cuda;
using Engine.Ops;
using Engine.Tensors;

namespace Bench;

/// <summary>The OSA concatenation: <c>parts</c> tensors [N, C, H, W] into [N, parts*C, H, W] (one concat_fwd_f32 per part), and the gradient split.</summary>
internal sealed class ConcatCase(Shape part, int parts, bool backward)
    : Case(backward ? "concat_bwd_f32" : "concat_fwd_f32", backward ? "bwd" : "fwd", new Shape(part[0], part[1] * parts, part[2], part[3]))
{
    private float[][] _xs = [];
    private float[] _dy = [];
    private DevicePtr[] _xd = [], _dx = [];
    private DevicePtr _y, _dyd;
    private long PartN => part.Numel;
    private long Total => PartN * parts;

    public override long Bytes => (backward ? 12L : 8L) * Total;

    public override void Setup(Gpu gpu)
    {
        _xs = Enumerable.Range(0, parts).Select(i => Reference.Uniform(PartN, 10 + (ulong)i)).ToArray();
        if (backward)
        {
            _dy = Reference.Uniform(Total, 3);
            _dyd = gpu.Floats(_dy);
            _dx = _xs.Select(_ => gpu.Zeros(PartN)).ToArray();
        }
        else
        {
            _xd = _xs.Select(x => gpu.Floats(x)).ToArray();
            _y = gpu.Zeros(Total);
        }
    }

    public override void Run(Gpu gpu)
    {
        int c = part[1], hw = part[2] * part[3];
        for (int i = 0; i < parts; i++)
        {
            var a = Args();
            if (backward) { a.Add(_dx[i]); a.Add(_dyd); }
            else { a.Add(_y); a.Add(_xd[i]); }
            a.Add(part[0]); a.Add(c); a.Add((long)hw); a.Add(c * parts); a.Add(c * i);
            gpu.Launch(Kernel, Gpu.ElementwiseGrid(PartN), Block, ref a);
        }
    }

    public override bool Validate(Gpu gpu)
    {
        using var cpu = new Reference(new Concat(), Enumerable.Repeat(part, parts).ToArray(), _xs.Cast<object>().ToArray(), withInputGrads: backward);
        if (!backward)
        {
            Run(gpu);
            return Validation.Compare("y", gpu.ReadFloats(_y, Total), cpu.Output(0), 0, 0);
        }
        foreach (var d in _dx) gpu.Zero(d, PartN);
        Run(gpu);
        cpu.Backward(0, _dy);
        bool ok = true;
        for (int i = 0; i < parts; i++) ok &= Validation.Compare($"dx{i}", gpu.ReadFloats(_dx[i], PartN), cpu.InputGrad(i), 0, 0);
        return ok;
    }
}
