using Engine.Cuda;
using Engine.Ops;
using Engine.Tensors;

namespace Bench;

/// <summary>Group norm: groupnorm_fwd_f32; backward = groupnorm_bwd_f32 + groupnorm_param_grad_f32.</summary>
internal sealed class GroupNormCase(Shape shape, int groups, bool backward)
    : Case(backward ? "groupnorm_bwd_f32" : "groupnorm_fwd_f32", backward ? "bwd" : "fwd", shape)
{
    private const float Eps = 1e-5f;
    private float[] _x = [], _dy = [], _gamma = [], _beta = [];
    private DevicePtr _xd, _y, _mean, _rstd, _gammad, _betad, _dyd, _dx, _scratch, _dgamma, _dbeta;
    private int N => Shape[0];
    private int C => Shape[1];
    private int HW => Shape[2] * Shape[3];

    public override long Bytes => (backward ? 16L : 8L) * Shape.Numel;

    public override void Setup(Gpu gpu)
    {
        _x = Reference.Uniform(Shape.Numel, 11, -2, 4);
        _gamma = Reference.Uniform(C, 12, 0.5, 1.5);
        _beta = Reference.Uniform(C, 13, -0.5, 0.5);
        _xd = gpu.Floats(_x);
        _gammad = gpu.Floats(_gamma);
        _betad = gpu.Floats(_beta);
        _y = gpu.Zeros(Shape.Numel);
        _mean = gpu.Zeros(N * groups);
        _rstd = gpu.Zeros(N * groups);
        if (!backward) return;
        _dy = Reference.Uniform(Shape.Numel, 14);
        _dyd = gpu.Floats(_dy);
        _dx = gpu.Zeros(Shape.Numel);
        _scratch = gpu.Zeros(2L * N * C);
        _dgamma = gpu.Zeros(C);
        _dbeta = gpu.Zeros(C);
        Forward(gpu);
    }

    public override void Run(Gpu gpu)
    {
        if (!backward) { Forward(gpu); return; }
        var a = Args();
        a.Add(_dx); a.Add(_scratch); a.Add(_dyd); a.Add(_xd); a.Add(_mean); a.Add(_rstd); a.Add(_gammad);
        a.Add(N); a.Add(C); a.Add(HW); a.Add(groups);
        gpu.Launch("groupnorm_bwd_f32", (long)N * groups, Block, ref a);
        var p = Args();
        p.Add(_dgamma); p.Add(_dbeta); p.Add(_scratch); p.Add(_rstd); p.Add(N); p.Add(C); p.Add(groups);
        gpu.Launch("groupnorm_param_grad_f32", (C + Block - 1) / Block, Block, ref p);
    }

    private void Forward(Gpu gpu)
    {
        var a = Args();
        a.Add(_y); a.Add(_mean); a.Add(_rstd); a.Add(_xd); a.Add(_gammad); a.Add(_betad);
        a.Add(N); a.Add(C); a.Add(HW); a.Add(groups); a.Add(Eps);
        gpu.Launch("groupnorm_fwd_f32", (long)N * groups, Block, ref a);
    }

    public override bool Validate(Gpu gpu)
    {
        var parameters = _gamma.Concat(_beta).Select(v => (double)v).ToArray();
        using var cpu = new Reference(new GroupNorm(groups, Eps), [Shape], [_x], parameters, withInputGrads: backward);
        if (!backward)
        {
            Run(gpu);
            return Validation.Compare("y", gpu.ReadFloats(_y, Shape.Numel), cpu.Output(0), 1e-5, 1e-4);
        }
        gpu.Zero(_dx, Shape.Numel);
        gpu.Zero(_dgamma, C);
        gpu.Zero(_dbeta, C);
        Run(gpu);
        cpu.Backward(0, _dy);
        var grads = cpu.ParamGrads();
        return Validation.Compare("dx", gpu.ReadFloats(_dx, Shape.Numel), cpu.InputGrad(0), 1e-5, 1e-3)
            & Validation.Compare("dgamma", gpu.ReadFloats(_dgamma, C), grads.AsSpan(0, C), 1e-3, 1e-3)
            & Validation.Compare("dbeta", gpu.ReadFloats(_dbeta, C), grads.AsSpan(C, C), 1e-3, 1e-3);
    }
}
