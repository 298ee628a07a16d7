using Engine.Cuda;
using Engine.Ops;
using Engine.Tensors;

namespace Bench;

/// <summary>Max pooling with int32 argmax (maxpool_fwd_f32) and its gather backward (maxpool_bwd_f32).</summary>
internal sealed class MaxPoolCase(Shape shape, int kernel, int stride, int padding, bool backward)
    : Case(backward ? "maxpool_bwd_f32" : "maxpool_fwd_f32", backward ? "bwd" : "fwd", shape)
{
    private readonly MaxPool _op = new(kernel, stride, padding, withIndices: true);
    private Shape _out;
    private float[] _x = [], _dy = [];
    private DevicePtr _xd, _y, _idx, _dyd, _dx;

    public override long Bytes => backward ? 8L * _out.Numel + 8L * Shape.Numel : 4L * Shape.Numel + 8L * _out.Numel;

    public override void Setup(Gpu gpu)
    {
        _out = _op.InferShapes([Shape])[0];
        _x = Reference.Uniform(Shape.Numel, 4);
        _xd = gpu.Floats(_x);
        _y = gpu.Zeros(_out.Numel);
        _idx = gpu.Zeros(_out.Numel, isInt: true);
        if (backward)
        {
            _dy = Reference.Uniform(_out.Numel, 5);
            _dyd = gpu.Floats(_dy);
            _dx = gpu.Zeros(Shape.Numel);
            Launch(gpu, forward: true); // the indices backward gathers with
        }
    }

    public override void Run(Gpu gpu) => Launch(gpu, forward: !backward);

    private void Launch(Gpu gpu, bool forward)
    {
        var a = Args();
        if (forward) { a.Add(_y); a.Add(_idx); a.Add(_xd); }
        else { a.Add(_dx); a.Add(_dyd); a.Add(_idx); }
        a.Add(Shape[0] * Shape[1]); a.Add(Shape[2]); a.Add(Shape[3]); a.Add(_out[2]); a.Add(_out[3]);
        a.Add(kernel); a.Add(kernel); a.Add(stride); a.Add(stride); a.Add(padding); a.Add(padding);
        long threads = forward ? _out.Numel : Shape.Numel;
        gpu.Launch(forward ? "maxpool_fwd_f32" : "maxpool_bwd_f32", (threads + Block - 1) / Block, Block, ref a);
    }

    public override bool Validate(Gpu gpu)
    {
        using var cpu = new Reference(_op, [Shape], [_x], withInputGrads: backward);
        if (!backward)
        {
            Run(gpu);
            return Validation.Compare("y", gpu.ReadFloats(_y, _out.Numel), cpu.Output(0), 0, 0)
                & Validation.Compare("indices", gpu.ReadInts(_idx, _out.Numel), cpu.OutputInt(1));
        }
        gpu.Zero(_dx, Shape.Numel);
        Run(gpu);
        cpu.Backward(0, _dy);
        return Validation.Compare("dx", gpu.ReadFloats(_dx, Shape.Numel), cpu.InputGrad(0), 1e-6, 1e-6);
    }
}

/// <summary>Max unpooling (zero fill + maxunpool_fwd_f32 scatter) and its gather backward, with indices of a 2x2/2 max pool.</summary>
internal sealed class MaxUnpoolCase(Shape pooled, bool backward)
    : Case(backward ? "maxunpool_bwd_f32" : "maxunpool_fwd_f32", backward ? "bwd" : "fwd", pooled)
{
    private readonly MaxUnpool _op = new(pooled[2] * 2, pooled[3] * 2);
    private float[] _x = [], _dy = [];
    private int[] _idx = [];
    private DevicePtr _xd, _idxd, _y, _dyd, _dx;
    private long In => Shape.Numel;
    private long Out => In * 4;

    public override long Bytes => backward ? 16L * In : 4L * Out + 12L * In;

    public override void Setup(Gpu gpu)
    {
        var full = new Shape(Shape[0], Shape[1], Shape[2] * 2, Shape[3] * 2);
        using (var pool = new Reference(new MaxPool(2, 2, withIndices: true), [full], [Reference.Uniform(full.Numel, 6)]))
            _idx = pool.OutputInt(1);
        _x = Reference.Uniform(In, 7);
        _xd = gpu.Floats(_x);
        _idxd = gpu.Ints(_idx);
        if (backward)
        {
            _dy = Reference.Uniform(Out, 8);
            _dyd = gpu.Floats(_dy);
            _dx = gpu.Zeros(In);
        }
        else _y = gpu.Zeros(Out);
    }

    public override void Run(Gpu gpu)
    {
        var a = Args();
        if (backward) { a.Add(_dx); a.Add(_dyd); }
        else
        {
            gpu.Zero(_y, Out);
            a.Add(_y); a.Add(_xd);
        }
        a.Add(_idxd); a.Add(Shape[0] * Shape[1]); a.Add(Shape[2] * Shape[3]); a.Add(Shape[2] * Shape[3] * 4);
        gpu.Launch(Kernel, (In + Block - 1) / Block, Block, ref a);
    }

    public override bool Validate(Gpu gpu)
    {
        using var cpu = new Reference(_op, [Shape, Shape], [_x, _idx], withInputGrads: backward);
        if (!backward)
        {
            Run(gpu);
            return Validation.Compare("y", gpu.ReadFloats(_y, Out), cpu.Output(0), 0, 0);
        }
        gpu.Zero(_dx, In);
        Run(gpu);
        cpu.Backward(0, _dy);
        return Validation.Compare("dx", gpu.ReadFloats(_dx, In), cpu.InputGrad(0), 0, 0);
    }
}
