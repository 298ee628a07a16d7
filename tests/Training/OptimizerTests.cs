using Engine.Graph;
using Engine.Tensors;
using Engine.Tests.Training.Support;
using Engine.Training.Optimizers;

namespace Engine.Tests.Training;

public class OptimizerTests
{
    // A graph whose parameters are fc.weight [1, 1] (with weight decay) and fc.bias [1] (without).
    private static Graph.Graph OneWeight()
    {
        var b = new GraphBuilder("one");
        b.Output("y", b.Add1(new TinyLinear(1), "fc", b.Input("x", new Shape(1))));
        return b.Build();
    }

    private static ParameterBuffers Buffers(Backend backend, double w, double bias)
    {
        var p = new ParameterBuffers(OneWeight(), backend);
        p.SetValues([w, bias]);
        return p;
    }

    private static void Grads(ParameterBuffers p, double gw, double gb) => p.Backend.Upload(BufferSlice.Whole(p.Grads), [gw, gb]);

    [Test]
    public void Classic_momentum_sgd_matches_hand_computed_steps()
    {
        using var backend = new CpuBackend<double>();
        using var p = Buffers(backend, 1.0, 1.0);
        using var sgd = new Sgd(p, momentum: 0.9, weightDecay: 0.01, unitGain: false);
        Grads(p, 0.5, 0.5);
        sgd.Step(0.1);
        // g' = 0.5 + 0.01*1 = 0.51; v = 0.51; w = 1 - 0.1*0.51. The bias has no decay: v = 0.5, b = 0.95.
        Assert.That(p.GetValues(), Is.EqualTo(new[] { 0.949, 0.95 }).Within(1e-15));
        sgd.Step(0.1);
        // g' = 0.5 + 0.01*0.949 = 0.50949; v = 0.9*0.51 + 0.50949 = 0.96849; w = 0.949 - 0.096849.
        // bias: v = 0.9*0.5 + 0.5 = 0.95; b = 0.95 - 0.095.
        Assert.That(p.GetValues(), Is.EqualTo(new[] { 0.852151, 0.855 }).Within(1e-14));
    }

    [Test]
    public void Unit_gain_momentum_scales_the_gradient_by_one_minus_momentum()
    {
        using var backend = new CpuBackend<double>();
        using var p = Buffers(backend, 1.0, 1.0);
        using var sgd = new Sgd(p, momentum: 0.9, weightDecay: 0.01, unitGain: true);
        Grads(p, 0.5, 0.5);
        sgd.Step(0.1);
        // v = 0.1*0.51 = 0.051; w = 1 - 0.0051. bias: v = 0.05, b = 0.995.
        Assert.That(p.GetValues(), Is.EqualTo(new[] { 0.9949, 0.995 }).Within(1e-15));
        sgd.Step(0.1);
        // g' = 0.5 + 0.01*0.9949 = 0.509949; v = 0.9*0.051 + 0.1*0.509949 = 0.0968949; w = 0.9949 - 0.00968949.
        Assert.That(p.GetValues()[0], Is.EqualTo(0.98521051).Within(1e-14));
        Assert.That(sgd.Describe(0.1), Does.Contain("unit-gain"));
    }

    [Test]
    public void Weight_decay_shrinks_only_the_parameters_that_declare_it()
    {
        using var backend = new CpuBackend<double>();
        using var p = Buffers(backend, 2.0, 2.0);
        using var sgd = new Sgd(p, momentum: 0, weightDecay: 0.5, unitGain: false);
        Grads(p, 0, 0);
        sgd.Step(0.1);
        Assert.That(p.GetValues(), Is.EqualTo(new[] { 2.0 - 0.1 * 0.5 * 2.0, 2.0 }).Within(1e-15));
    }

    [Test]
    public void Adam_applies_bias_correction()
    {
        using var backend = new CpuBackend<double>();
        using var p = Buffers(backend, 1.0, 0.0);
        using var adam = new Adam(p, beta1: 0.9, beta2: 0.999, epsilon: 1e-8);
        double w = 1.0, m = 0, v = 0;
        foreach (var (t, g) in new[] { (1, 0.5), (2, -1.0), (3, 0.25) })
        {
            Grads(p, g, g);
            adam.Step(0.01);
            // Textbook form: m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t), w -= lr * m_hat / (sqrt(v_hat) + eps).
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            double mHat = m / (1 - Math.Pow(0.9, t)), vHat = v / (1 - Math.Pow(0.999, t));
            w -= 0.01 * mHat / (Math.Sqrt(vHat) + 1e-8);
            Assert.That(p.GetValues()[0], Is.EqualTo(w).Within(1e-12), $"step {t}");
        }
        // Without bias correction the first step would be lr * 0.05 / (sqrt(0.00025) + eps) = 0.0316 * lr, not about lr.
        Assert.That(adam.Steps, Is.EqualTo(3));
    }

    [Test]
    public void Adam_first_step_moves_each_weight_by_about_the_learning_rate()
    {
        using var backend = new CpuBackend<float>();
        using var p = Buffers(backend, 1.0, 1.0);
        using var adam = new Adam(p, weightDecay: 0.1);
        Grads(p, 3.0, -0.001);
        adam.Step(0.01);
        var values = p.GetValues();
        Assert.That(values[0], Is.EqualTo(0.99).Within(1e-6));
        Assert.That(values[1], Is.EqualTo(1.01).Within(1e-5));
    }

    [Test]
    public void Host_round_trip_agrees_with_the_cpu_path_and_is_counted()
    {
        foreach (bool adam in new[] { false, true })
        {
            using var cpu = new CpuBackend<double>();
            using var host = new HostFallbackBackend();
            using var a = Buffers(cpu, 0.3, -0.2);
            using var b = Buffers(host, 0.3, -0.2);
            using Optimizer oa = adam ? new Adam(a, weightDecay: 0.01) : new Sgd(a, 0.9, 0.01, unitGain: true);
            using Optimizer ob = adam ? new Adam(b, weightDecay: 0.01) : new Sgd(b, 0.9, 0.01, unitGain: true);
            for (int i = 0; i < 5; i++)
            {
                Grads(a, 0.1 * i - 0.2, 0.3); Grads(b, 0.1 * i - 0.2, 0.3);
                oa.Step(0.05); ob.Step(0.05);
            }
            Assert.That(b.GetValues(), Is.EqualTo(a.GetValues()).Within(1e-14), adam ? "adam" : "sgd");
            Assert.That(host.Fallbacks, Is.EqualTo(new[] { (adam ? "adam" : "sgd") + " update" }).AsCollection, "every update (one range) is a host fallback");
        }
    }

    /// <summary>A backend without optimizer kernels that is not a CPU backend: updates take the host round trip.</summary>
    private sealed class HostFallbackBackend : Backend
    {
        private readonly CpuBackend<double> _inner = new();
        public HashSet<string> Fallbacks { get; } = [];
        public override void NoteHostFallback(string what) => Fallbacks.Add(what);
        public override string Name => "host-fallback";
        public override DataType FloatType => DataType.F64;
        public override Graph.Buffer Allocate(long count, DataType type) => _inner.Allocate(count, type);
        public override void Zero(BufferSlice s) => _inner.Zero(s);
        public override void Upload(BufferSlice dst, ReadOnlySpan<double> src) => _inner.Upload(dst, src);
        public override void Upload(BufferSlice dst, ReadOnlySpan<float> src) => _inner.Upload(dst, src);
        public override void Upload(BufferSlice dst, ReadOnlySpan<int> src) => _inner.Upload(dst, src);
        public override void Download(BufferSlice src, Span<double> dst) => _inner.Download(src, dst);
        public override void Download(BufferSlice src, Span<float> dst) => _inner.Download(src, dst);
        public override void Download(BufferSlice src, Span<int> dst) => _inner.Download(src, dst);
        public override void Copy(BufferSlice dst, BufferSlice src) => _inner.Copy(dst, src);
        public override void Forward(NodeRun run) => _inner.Forward(run);
        public override void Backward(NodeRun run) => _inner.Backward(run);
        public override void Recompute(NodeRun run) => _inner.Recompute(run);
    }
}
