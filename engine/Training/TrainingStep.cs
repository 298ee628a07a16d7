using Engine.Data;
using Engine.Graph;
using Engine.Training.Optimizers;

namespace Engine.Training;

/// <summary>One optimisation step on a batch, as the trainer and the learning-rate range test both take it.</summary>
internal static class TrainingStep
{
    /// <summary>Inputs, forward, zeroed parameter gradients, backward from the loss, one update at <paramref name="lr"/>; returns the loss.</summary>
    /// <param name="afterBackward">Data-parallel training: given the local loss after backward, makes the gradients the global batch's and returns the global loss.</param>
    public static double Run(Executor exec, ParameterBuffers parameters, Optimizer optimizer, Batch batch, long step, double lr, Value loss,
        Func<double, double>? afterBackward = null)
    {
        exec.Step = step;
        exec.SetInput("image", batch.Images.Span, batch.Layout);
        exec.SetInput("label", batch.Labels.Span);
        exec.Forward(training: true);
        parameters.ZeroGrads();
        exec.Backward();
        double value = exec.Read(loss)[0];
        if (afterBackward is not null) value = afterBackward(value);
        optimizer.Step(lr);
        return value;
    }
}
