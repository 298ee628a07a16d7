namespace Engine.Graph;

/// <summary>How an executor lays out its values and gradients.</summary>
public sealed record ExecutorOptions
{
    /// <summary>Also compute gradients of the graph's float inputs (gradient checks).</summary>
    public bool InputGradients { get; init; }

    /// <summary>
    /// Keep every value and gradient readable after the step (parity tests and debugging): no
    /// memory is shared between values. Otherwise only the graph's inputs, its outputs (and the
    /// values nothing consumes) stay readable; the rest share the arena by lifetime.
    /// </summary>
    public bool KeepAll { get; init; }

    /// <summary>No gradients at all: evaluation and prediction.</summary>
    public bool InferenceOnly { get; init; }

    /// <summary>Let a concatenation's eligible inputs be views into it (no copy); off, every input is copied (tests compare both).</summary>
    public bool ConcatViews { get; init; } = true;

    /// <summary>
    /// Recompute cheap outputs in backward instead of keeping them from forward
    /// (<see cref="OpBase.CanRecomputeOutput"/>: a fused BN + activation feeding a convolution):
    /// one elementwise pass more per such layer, a tensor less alive at the peak.
    /// </summary>
    public bool Recompute { get; init; } = true;

    /// <summary>
    /// Training with the graph's backbone held fixed (<see cref="Graph.HasBackbone"/>): its nodes run
    /// in evaluation mode (batch norm uses and keeps its running statistics) and have no backward
    /// pass, so nothing they read is kept for backward and no gradient of theirs is planned. An
    /// executor over <see cref="ParameterBuffers"/> that freeze the backbone always does.
    /// </summary>
    public bool FreezeBackbone { get; init; }
}
