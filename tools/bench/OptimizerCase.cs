using Engine.Cuda;
using Engine.Graph;
using Engine.Tensors;
using Engine.Training.Optimizers;

namespace Bench;

/// <summary>
/// sgd_momentum_f32 / adam_f32 over a whole parameter buffer, as CudaBackend launches them; the
/// reference is Training's update (SgdUpdate / AdamUpdate) on the CPU backend from the same starting values.
/// </summary>
internal sealed class OptimizerCase(int parameters, bool adam) : Case(adam ? "adam_f32" : "sgd_momentum_f32", "update", new Shape(parameters))
{
    private static readonly SgdUpdate Sgd = new(LearningRate: 0.01, Momentum: 0.9, WeightDecay: 5e-4, UnitGain: false);
    private static readonly AdamUpdate Adam = new(LearningRate: 1e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: 0, Step: 3);

    private float[] _w = [], _g = [], _s1 = [], _s2 = [];
    private DevicePtr _wd, _gd, _s1d, _s2d, _scalars;
    private long N => Shape.Numel;

    // Read w, g and the state buffer(s), write w and the state(s) back.
    public override long Bytes => (adam ? 7L : 5L) * 4 * N;

    public override void Setup(Gpu gpu)
    {
        _w = Reference.Uniform(N, 1);
        _g = Reference.Uniform(N, 2);
        _s1 = Reference.Uniform(N, 3);
        _s2 = Reference.Uniform(N, 4, 0, 1);   // Adam's second moment is non-negative
        _wd = gpu.Floats(_w);
        _gd = gpu.Floats(_g);
        _s1d = gpu.Floats(_s1);
        if (adam) _s2d = gpu.Floats(_s2);
        // The per-step scalars the kernels read from device memory.
        _scalars = gpu.Floats(adam ? [(float)Adam.StepSize, (float)Adam.SqrtBiasCorrection2] : [(float)Sgd.LearningRate]);
    }

    public override void Run(Gpu gpu)
    {
        var a = Args();
        if (adam)
        {
            a.Add(_wd); a.Add(_s1d); a.Add(_s2d); a.Add(_gd);
            a.Add((float)Adam.Beta1); a.Add((float)Adam.Beta2); a.Add((float)Adam.Epsilon); a.Add((float)Adam.WeightDecay);
            a.Add(_scalars);
        }
        else
        {
            a.Add(_wd); a.Add(_s1d); a.Add(_gd);
            a.Add(_scalars); a.Add((float)Sgd.Momentum); a.Add(1f); a.Add((float)Sgd.WeightDecay);
        }
        a.Add(N);
        gpu.Launch(Kernel, Gpu.ElementwiseGrid(N), Block, ref a);
    }

    public override bool Validate(Gpu gpu)
    {
        Run(gpu);
        using var cpu = new CpuBackend<float>();
        var slices = new[] { _w, _g, _s1, _s2 }.Select(values =>
        {
            var s = BufferSlice.Whole(cpu.AllocateFloats(N));
            cpu.Upload(s, values);
            return s;
        }).ToArray();
        if (adam) Adam.Run(cpu, slices[0], slices[1], slices[2], slices[3]);
        else Sgd.Run(cpu, slices[0], slices[1], slices[2]);
        var w = new float[N];
        cpu.Download(slices[0], w);
        foreach (var s in slices) s.Buffer.Dispose();
        return Validation.Compare("w", gpu.ReadFloats(_wd, N), w, 1e-6, 1e-5);
    }
}
