using Engine.Cuda;
using Engine.Ops;
using Engine.Tensors;

namespace Bench;

/// <summary>mish_fwd_f32 / mish_bwd_f32 on an activation tensor.</summary>
internal sealed class MishCase(Shape shape, bool backward) : Case(backward ? "mish_bwd_f32" : "mish_fwd_f32", backward ? "bwd" : "fwd", shape)
{
    private float[] _x = [], _dy = [];
    private DevicePtr _dx, _xd, _dyd, _y;
    private long N => Shape.Numel;

    public override long Bytes => (backward ? 16L : 8L) * N;

    public override void Setup(Gpu gpu)
    {
        _x = Reference.Uniform(N, 1, -8, 8);
        _xd = gpu.Floats(_x);
        if (backward)
        {
            _dy = Reference.Uniform(N, 2);
            _dyd = gpu.Floats(_dy);
            _dx = gpu.Zeros(N);
        }
        else _y = gpu.Zeros(N);
    }

    public override void Run(Gpu gpu)
    {
        var a = Args();
        if (backward) { a.Add(_dx); a.Add(_xd); a.Add(_dyd); }
        else { a.Add(_y); a.Add(_xd); }
        a.Add(N);
        gpu.Launch(Kernel, Gpu.ElementwiseGrid(N), Block, ref a);
    }

    public override bool Validate(Gpu gpu)
    {
        using var cpu = new Reference(new Mish(), [Shape], [_x], withInputGrads: backward);
        if (!backward)
        {
            Run(gpu);
            return Validation.Compare("y", gpu.ReadFloats(_y, N), cpu.Output(0), 1e-6, 1e-5);
        }
        gpu.Zero(_dx, N);
        Run(gpu);
        cpu.Backward(0, _dy);
        return Validation.Compare("dx", gpu.ReadFloats(_dx, N), cpu.InputGrad(0), 1e-6, 1e-5);
    }
}
