using Engine.Tensors;

namespace Engine.Graph.Memory;

/// <summary>
/// What one training (or evaluation) executor of a graph needs, in bytes: parameters, their
/// gradients, the optimizer's state, BN running statistics, and the planned activation arena;
/// and what the executor before planning (every value and gradient kept) would have needed. A frozen
/// backbone has neither gradients nor optimizer state.
/// </summary>
public sealed record MemoryBudget(long Parameters, long Gradients, long OptimizerState, long States, MemoryPlan Plan)
{
    /// <param name="optimizerBuffers">Buffers of parameter size the optimizer keeps: 1 for SGD with momentum, 2 for Adam, 0 for evaluation.</param>
    public static MemoryBudget For(Graph graph, int batch, DataType floatType, ExecutorOptions options, int optimizerBuffers)
    {
        long p = graph.Parameters.Count * floatType.Size();
        long trainable = (graph.Parameters.Count - graph.FrozenParameterCount(options.FreezeBackbone && !options.InferenceOnly)) * floatType.Size();
        var plan = new MemoryPlan(graph, MemoryPlan.Shapes(graph, batch), floatType, options);
        return new MemoryBudget(p, options.InferenceOnly ? 0 : trainable, options.InferenceOnly ? 0 : optimizerBuffers * trainable,
            graph.States.Count * floatType.Size(), plan);
    }

    public long Fixed => Parameters + Gradients + OptimizerState + States;
    public long Total => Fixed + Plan.ArenaBytes;
    public long KeepEverythingTotal => Parameters + Gradients + OptimizerState + States + Plan.KeepEverythingBytes;
}
