using Engine.Cuda;
using Engine.Ops;
using Engine.Tensors;

namespace Bench;

/// <summary>
/// Fused batch norm + Mish in training: forward = bnact_stats_f32 + bnact_fwd_f32; backward =
/// bnact_bwd_reduce_f32 + bnact_bwd_dx_f32 (both recompute z from x). Bytes count each tensor
/// once, so the statistics' and the reduction's extra passes over x show as lost bandwidth.
/// </summary>
internal sealed class BnActCase(Shape shape, bool backward)
    : Case(backward ? "bnact_bwd_reduce+dx_f32" : "bnact_stats+fwd_f32", backward ? "bwd" : "fwd", shape)
{
    private const float Eps = 1e-5f, Momentum = 0.1f;
    private const int Mish = 1;
    private float[] _x = [], _dy = [], _weight = [], _bias = [];
    private DevicePtr _xd, _y, _stats, _runningMean, _runningVar, _weightd, _biasd, _dyd, _dx, _sums, _dweight, _dbias;
    private int N => Shape[0];
    private int C => Shape[1];
    private int HW => Shape[2] * Shape[3];
    private long SampleStride => (long)C * HW;
    private DevicePtr InvStd => _stats.Offset(C * sizeof(float));

    public override long Bytes => (backward ? 16L : 8L) * Shape.Numel;

    public override void Setup(Gpu gpu)
    {
        _x = Reference.Uniform(Shape.Numel, 21, -2, 4);
        _weight = Reference.Uniform(C, 22, 0.5, 1.5);
        _bias = Reference.Uniform(C, 23, -0.5, 0.5);
        _xd = gpu.Floats(_x);
        _weightd = gpu.Floats(_weight);
        _biasd = gpu.Floats(_bias);
        _y = gpu.Zeros(Shape.Numel);
        _stats = gpu.Zeros(2L * C);
        _runningMean = gpu.Zeros(C);
        _runningVar = gpu.Floats(Enumerable.Repeat(1f, C).ToArray());
        if (!backward) return;
        _dy = Reference.Uniform(Shape.Numel, 24);
        _dyd = gpu.Floats(_dy);
        _dx = gpu.Zeros(Shape.Numel);
        _sums = gpu.Zeros(2L * C);
        _dweight = gpu.Zeros(C);
        _dbias = gpu.Zeros(C);
        Forward(gpu);
    }

    public override void Run(Gpu gpu)
    {
        if (!backward) { Forward(gpu); return; }
        var r = Args();
        r.Add(_sums); r.Add(_dweight); r.Add(_dbias); r.Add(_xd); r.Add(_dyd); r.Add(SampleStride);
        r.Add(_stats); r.Add(InvStd); r.Add(_weightd); r.Add(_biasd); r.Add(N); r.Add(C); r.Add(HW); r.Add(Mish);
        gpu.Launch("bnact_bwd_reduce_f32", C, Block, ref r);
        var d = Args();
        d.Add(_dx); d.Add(_xd); d.Add(_dyd); d.Add(SampleStride); d.Add(_stats); d.Add(InvStd); d.Add(_weightd); d.Add(_biasd);
        d.Add(_sums); d.Add(N); d.Add(C); d.Add(HW); d.Add(Mish); d.Add(1);   // accumulate: Validate zeroes dx first
        gpu.Launch("bnact_bwd_dx_f32", Math.Min(Gpu.ElementwiseGrid(Shape.Numel), 32L * gpu.Multiprocessors), Block, ref d);
    }

    private void Forward(Gpu gpu)
    {
        var s = Args();
        s.Add(_stats); s.Add(InvStd); s.Add(_runningMean); s.Add(_runningVar); s.Add(_xd); s.Add(N); s.Add(C); s.Add(HW); s.Add(Eps); s.Add(Momentum);
        gpu.Launch("bnact_stats_f32", C, Block, ref s);
        var a = Args();
        a.Add(_y); a.Add(SampleStride); a.Add(_xd); a.Add(_stats); a.Add(InvStd); a.Add(_weightd); a.Add(_biasd); a.Add(N); a.Add(C); a.Add(HW); a.Add(Mish);
        gpu.Launch("bnact_fwd_f32", Math.Min(Gpu.ElementwiseGrid(Shape.Numel), 32L * gpu.Multiprocessors), Block, ref a);
    }

    public override bool Validate(Gpu gpu)
    {
        var parameters = _weight.Concat(_bias).Select(v => (double)v).ToArray();
        using var cpu = new Reference(new BatchNormActivation(ActivationKind.Mish, Momentum, Eps), [Shape], [_x], parameters, withInputGrads: backward);
        if (!backward)
        {
            Run(gpu);
            return Validation.Compare("y", gpu.ReadFloats(_y, Shape.Numel), cpu.Output(0), 1e-4, 1e-4);
        }
        gpu.Zero(_dx, Shape.Numel);
        gpu.Zero(_dweight, C);
        gpu.Zero(_dbias, C);
        Run(gpu);
        cpu.Backward(0, _dy);
        var grads = cpu.ParamGrads();
        return Validation.Compare("dx", gpu.ReadFloats(_dx, Shape.Numel), cpu.InputGrad(0), 1e-4, 1e-3)
            & Validation.Compare("dweight", gpu.ReadFloats(_dweight, C), grads.AsSpan(0, C), 1e-2, 1e-3)
            & Validation.Compare("dbias", gpu.ReadFloats(_dbias, C), grads.AsSpan(C, C), 1e-2, 1e-3);
    }
}
