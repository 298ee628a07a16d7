using System.Globalization;
using Engine.Graph;

namespace Engine.Training.Optimizers;

/// <summary>Adam (Kingma and Ba) with bias correction, PyTorch's arithmetic; optional L2 added to the gradient.</summary>
public sealed class Adam(ParameterBuffers parameters, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    : Optimizer(parameters, weightDecay, "exp_avg", "exp_avg_sq")
{
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    public override string Kind => "adam";

    public override string Describe(double learningRate) => string.Create(CultureInfo.InvariantCulture,
        $"Adam, bias-corrected; beta1 {Beta1}, beta2 {Beta2}, eps {Epsilon}, L2 weight decay {WeightDecay}, lr {learningRate}");

    protected override float[] DeviceScalars(double learningRate) => new AdamUpdate(learningRate, Beta1, Beta2, Epsilon, 0, Steps).DeviceScalars;

    protected override void Update(Backend backend, BufferSlice values, BufferSlice grads, BufferSlice[] state, double lr, double weightDecay, BufferSlice scalars)
        => new AdamUpdate(lr, Beta1, Beta2, Epsilon, weightDecay, Steps).Run(backend, values, grads, state[0], state[1], scalars);
}
