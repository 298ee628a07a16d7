using Engine.Data.Datasets;
using Engine.Graph;
using Engine.Nets;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;
using Engine.Tests.Training.Support;
using Engine.Training;
using Engine.Training.Optimizers;
using Engine.Training.Reports;

namespace Engine.Tests.MixedPrecision;

/// <summary>
/// The CPU backend's emulated bf16 (engine/Graph/PRECISION.md): what it stores is bf16, what it
/// keeps in fp32 stays fp32, the memory plan changes no number, and it trains as fp32 does
/// within bf16's noise.
/// </summary>
public class Bf16EmulationTests
{
    private const int Batch = 2;

    private static NetOptions Tiny(string name) => NetRegistry.Find(name).Segmentation
        ? new NetOptions { Width = 1.0 / 8, Input = new Shape(3, 32, 32), Classes = 5, IgnoreLabel = 255 }
        : new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4 };

    private static void Feed(Executor exec, Graph.Graph g, NetOptions o)
    {
        var rng = new Rng(5);
        exec.SetInput("image", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("image")).Numel).Select(_ => rng.NextNormal()).ToArray());
        int classes = o.Classes!.Value;
        exec.SetInput("label", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("label")).Numel).Select(i => i % 7 == 0 && o.IgnoreLabel >= 0 ? o.IgnoreLabel : i % classes).ToArray());
    }

    private static (double Loss, double[] Grads) Step(string name, Backend backend, ExecutorOptions mode, int batch = Batch, int side = 32)
    {
        var o = Tiny(name) with { Input = new Shape(3, side, side) };
        var g = NetRegistry.Build(name, o);
        using var exec = new Executor(g, backend, batch, mode);
        exec.Parameters.Initialize(3);
        Feed(exec, g, o);
        exec.Parameters.ZeroGrads();
        exec.Forward(training: true);
        exec.Backward();
        return (exec.Read(g.Loss!)[0], exec.Parameters.GetGrads());
    }

    private static int NotBf16(IEnumerable<float> values) => values.Count(x => !Bf16.IsRepresentable(x));

    [TestCase("vovnet57")]
    [TestCase("segnet")]
    [TestCase("vgg11")]
    public void Every_stored_activation_and_activation_gradient_is_a_bf16_value_and_the_masters_stay_fp32(string name)
    {
        var o = Tiny(name);
        var g = NetRegistry.Build(name, o);
        using var cpu = new CpuBackend<float>(emulateBf16: true);
        using var exec = new Executor(g, cpu, Batch, new ExecutorOptions { KeepAll = true, InputGradients = true });
        exec.Parameters.Initialize(3);
        Feed(exec, g, o);
        var masters = exec.Parameters.GetValues();
        exec.Parameters.ZeroGrads();
        exec.Forward(training: true);
        exec.Backward();

        int values = 0, gradients = 0;
        foreach (var v in g.Inputs.Concat(g.Nodes.SelectMany(n => n.Outputs)).Where(v => v.IsFloat && v != g.Loss))
        {
            Assert.That(NotBf16(exec.ReadFloat(v)), Is.Zero, $"{v.Name}: elements that are not bf16 values");
            values++;
            if (!exec.Plan.HasGradient(v)) continue;
            Assert.That(NotBf16(exec.ReadGrad(v).Select(d => (float)d)), Is.Zero, $"{v.Name}'s gradient: elements that are not bf16 values");
            gradients++;
        }
        TestContext.Out.WriteLine($"{name}: {values} values, {gradients} gradients, all bf16");
        Assert.That(gradients, Is.GreaterThan(values / 2));

        Assert.That(exec.Parameters.GetValues(), Is.EqualTo(masters), "the masters are not touched by their bf16 copies");
        Assert.That(NotBf16(masters.Select(d => (float)d)), Is.GreaterThan(masters.Length / 2), "the masters are fp32 (He/Glorot draws)");
        var grads = exec.Parameters.GetGrads().Select(d => (float)d).ToArray();
        Assert.That(NotBf16(grads), Is.GreaterThan(grads.Length / 4), "parameter gradients are accumulated and kept in fp32");
        Assert.That(Bf16.IsRepresentable(exec.ReadFloat(g.Loss!)[0]), Is.False, "the loss is fp32 (1 in 65,536 would be a bf16 value by chance)");
    }

    /// <summary>Views into concatenations, in-place outputs, recomputation and shared storage store exactly what keeping everything stores.</summary>
    [TestCase("vovnet57")]
    [TestCase("segnet")]
    public void The_memory_plan_changes_no_number_of_a_bf16_step(string name)
    {
        using var cpu = new CpuBackend<float>(emulateBf16: true);
        var planned = Step(name, cpu, new ExecutorOptions());
        var kept = Step(name, cpu, new ExecutorOptions { KeepAll = true });
        Assert.That(planned.Loss, Is.EqualTo(kept.Loss));
        Assert.That(planned.Grads, Is.EqualTo(kept.Grads));
    }

    /// <summary>
    /// One step from the same weights and batch (8 images of 64x64): the bf16 loss within 2 % of
    /// fp32's (measured: vovnet57 1.0e-2, segnet 1.2e-4, vgg11 see the output). Parameter gradients
    /// are not compared: at initialisation, with batch statistics, the gradients of the convolutions
    /// feeding batch norm are ill-conditioned; in float64 1e-3 relative noise on the input alone
    /// moves them by 7 % in a 5-conv net (PyTorch), bf16 by 15 % there and by 100 % in vovnet57.
    /// The rule itself is checked against PyTorch in <see cref="Bf16TorchCrossCheckTests"/>.
    /// </summary>
    [TestCase("vovnet57")]
    [TestCase("segnet")]
    [TestCase("vgg11")]
    public void A_bf16_steps_loss_is_within_2_percent_of_the_fp32_steps(string name)
    {
        using var fp32 = new CpuBackend<float>();
        using var bf16 = new CpuBackend<float>(emulateBf16: true);
        var reference = Step(name, fp32, new ExecutorOptions(), batch: 8, side: 64);
        var emulated = Step(name, bf16, new ExecutorOptions(), batch: 8, side: 64);
        double lossError = Math.Abs(emulated.Loss - reference.Loss) / Math.Abs(reference.Loss);
        TestContext.Out.WriteLine($"{name}: loss fp32 {reference.Loss:R}, bf16 {emulated.Loss:R} (relative {lossError:E2})");
        Assert.That(lossError, Is.LessThan(0.02));
        Assert.That(emulated.Loss, Is.Not.EqualTo(reference.Loss), "bf16 rounding happened at all");
    }

    private static IReadOnlyList<EpochRecord> Train(Backend backend)
    {
        using var dir = new TempDir();
        var (train, val) = SyntheticShapesDataset.Split(320, 160, size: 16, seed: 1);
        using var trainBatches = new LoaderBatches(train, 32, train: true, seed: 1, threads: 2);
        using var valBatches = new LoaderBatches(val, 32, train: false, seed: 1, threads: 2);
        return new Trainer(SmallCnn.Build(train.SampleShape, train.Classes), backend, trainBatches, valBatches, TaskInfo.Of(train), new TrainerOptions
        {
            RunDir = dir.Path, Epochs = 3, LearningRate = 0.01, Schedule = "constant", CreateOptimizer = p => new Adam(p),
        }).Run().History;
    }

    /// <summary>3 epochs of a small conv net: bf16's training loss falls as fp32's does and each epoch's stays within 5 % of it.</summary>
    [Test]
    public void A_short_bf16_training_run_learns_as_fp32_does()
    {
        using var fp32 = new CpuBackend<float>();
        using var bf16 = new CpuBackend<float>(emulateBf16: true);
        var reference = Train(fp32);
        var emulated = Train(bf16);
        TestContext.Out.WriteLine("fp32: " + string.Join(", ", reference.Select(r => r.TrainLoss.ToString("F4"))));
        TestContext.Out.WriteLine("bf16: " + string.Join(", ", emulated.Select(r => r.TrainLoss.ToString("F4"))));
        Assert.That(emulated[^1].TrainLoss, Is.LessThan(0.8 * emulated[0].TrainLoss));
        for (int e = 0; e < reference.Count; e++)
            Assert.That(Math.Abs(emulated[e].TrainLoss - reference[e].TrainLoss), Is.LessThan(0.05 * reference[e].TrainLoss), $"epoch {e + 1}");
    }

    [Test]
    public void Bf16_is_emulated_on_float32_storage_only()
    {
        Assert.Throws<ArgumentException>(() => _ = new CpuBackend<double>(emulateBf16: true));
        Assert.That(CpuBackends.Create(Precision.Bf16).Precision, Is.EqualTo(Precision.Bf16));
        Assert.That(CpuBackends.Create(Precision.Fp64).FloatType, Is.EqualTo(DataType.F64));
        var e = Assert.Throws<PrecisionNotSupportedException>(() => CpuBackends.Create(Precision.Tf32))!;
        Assert.That(e.Message, Does.Contain("GPU tensor-core mode"));
    }
}
