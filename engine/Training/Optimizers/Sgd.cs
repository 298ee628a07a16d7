using System.Globalization;
using Engine.Graph;

namespace Engine.Training.Optimizers;

/// <summary>
/// Momentum SGD with L2 weight decay. Classic form (PyTorch): v = m*v + g. Unit-gain form
/// (CNTK's default): v = m*v + (1-m)*g, so the same learning rate takes steps (1-m) times as
/// large; CNTK's lr 0.1 at m = 0.9 is about lr 0.01 in the classic form.
/// </summary>
public sealed class Sgd(ParameterBuffers parameters, double momentum, double weightDecay, bool unitGain)
    : Optimizer(parameters, weightDecay, "velocity")
{
    public double Momentum { get; } = momentum;
    public bool UnitGain { get; } = unitGain;
    public override string Kind => UnitGain ? "sgd-unit" : "sgd";

    public override string Describe(double learningRate) => string.Create(CultureInfo.InvariantCulture,
        $"momentum SGD, {(UnitGain ? "unit-gain (CNTK) v = m*v + (1-m)*g" : "classic (PyTorch) v = m*v + g")}, w -= lr*v; momentum {Momentum}, L2 weight decay {WeightDecay}, lr {learningRate}");

    protected override float[] DeviceScalars(double learningRate) => new SgdUpdate(learningRate, Momentum, 0, UnitGain).DeviceScalars;

    protected override void Update(Backend backend, BufferSlice values, BufferSlice grads, BufferSlice[] state, double lr, double weightDecay, BufferSlice scalars)
        => new SgdUpdate(lr, Momentum, weightDecay, UnitGain).Run(backend, values, grads, state[0], scalars);
}
