using Engine.Cuda;
using Engine.Ops;
using Engine.Tensors;

namespace Bench;

/// <summary>
/// Softmax cross-entropy: forward = softmax_ce_fwd_f32 + softmax_ce_mean_f32, backward =
/// softmax_ce_bwd_f32. Logits [N, K] (per sample) or [N, K, H, W] (per pixel, every 7th label ignored).
/// </summary>
internal sealed class SoftmaxCeCase(Shape logits, bool backward)
    : Case(backward ? "softmax_ce_bwd_f32" : "softmax_ce_fwd_f32", backward ? "bwd" : "fwd", logits)
{
    private const int Ignore = 255;
    private float[] _x = [];
    private int[] _labels = [];
    private DevicePtr _xd, _labelsd, _loss, _lse, _result, _bad, _dloss, _dx;
    private int N => Shape[0];
    private int K => Shape[1];
    private int S => Shape.Rank == 4 ? Shape[2] * Shape[3] : 1;
    private long E => (long)N * S;
    private Shape LabelShape => Shape.Rank == 4 ? new Shape(N, Shape[2], Shape[3]) : new Shape(N);

    public override long Bytes => backward ? 12L * Shape.Numel + 8L * E : 4L * Shape.Numel + 12L * E;

    public override void Setup(Gpu gpu)
    {
        _x = Reference.Uniform(Shape.Numel, 9, -6, 6);
        _labels = Reference.Labels(E, K, Ignore, S > 1 ? 7 : 0, 10);
        _xd = gpu.Floats(_x);
        _labelsd = gpu.Ints(_labels);
        _loss = gpu.Zeros(E);
        _lse = gpu.Zeros(E);
        _result = gpu.Zeros(2);
        _bad = gpu.Ints([Ignore]);
        _dloss = gpu.Floats([1f]);
        if (!backward) return;
        _dx = gpu.Zeros(Shape.Numel);
        Forward(gpu);
    }

    public override void Run(Gpu gpu)
    {
        if (!backward) { Forward(gpu); return; }
        var a = Args();
        a.Add(_dx); a.Add(_xd); a.Add(_lse); a.Add(_labelsd); a.Add(_dloss); a.Add(_result);
        a.Add(N); a.Add(K); a.Add(S); a.Add(Ignore);
        gpu.Launch(Kernel, Grid, Block, ref a);
    }

    /// <summary>kernels/ABI.md: a warp per row for S == 1, else a thread per pixel.</summary>
    private long Grid => S == 1 ? ((long)N * 32 + Block - 1) / Block : (E + Block - 1) / Block;

    private void Forward(Gpu gpu)
    {
        var a = Args();
        a.Add(_loss); a.Add(_lse); a.Add(_xd); a.Add(_labelsd); a.Add(N); a.Add(K); a.Add(S); a.Add(Ignore); a.Add(_bad);
        gpu.Launch("softmax_ce_fwd_f32", Grid, Block, ref a);
        var m = Args();
        m.Add(_result); m.Add(_loss); m.Add(_labelsd); m.Add(E); m.Add(K); m.Add(Ignore);
        gpu.Launch("softmax_ce_mean_f32", 1, 1024, ref m);
    }

    public override bool Validate(Gpu gpu)
    {
        using var cpu = new Reference(new SoftmaxCrossEntropy(Ignore), [Shape, LabelShape], [_x, _labels], withInputGrads: backward);
        if (!backward)
        {
            Run(gpu);
            return Validation.Compare("loss", gpu.ReadFloats(_result, 1), cpu.Output(0), 1e-6, 1e-5)
                & Validation.Compare("bad label flag", gpu.ReadInts(_bad, 1), [Ignore]);
        }
        gpu.Zero(_dx, Shape.Numel);
        Run(gpu);
        cpu.Backward(0, [1f]);
        float count = gpu.ReadFloats(_result, 2)[1];
        return Validation.Compare("dlogits", gpu.ReadFloats(_dx, Shape.Numel), cpu.InputGrad(0), 1e-6 / count, 1e-4);
    }
}
