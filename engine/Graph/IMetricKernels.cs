namespace Engine.Graph;

/// <summary>
/// Kernels a backend may offer to score predictions where the logits live (CUDA:
/// kernels/reduce.cu), so that only counts cross to the host. Training's metrics
/// (engine/Training/Metrics) hold the reference loops and use these when present.
/// </summary>
public interface IMetricKernels
{
    /// <summary>
    /// ranks[n] (I32) = classes whose logit beats the label's in row n of [n, classes] float32 logits
    /// (ties go to the lower class; 0 = top-1); a NaN label logit ranks last (classes); -1 for a label outside [0, classes).
    /// </summary>
    void ClassRanks(BufferSlice ranks, BufferSlice logits, BufferSlice labels, int n, int classes);

    /// <summary>
    /// counts[label * classes + argmax] += 1 (I32, classes x classes) for each of the n*plane elements of
    /// [n, classes, plane] float32 logits whose label is in [0, classes) and not <paramref name="ignoreLabel"/>.
    /// </summary>
    void Confusion(BufferSlice counts, BufferSlice logits, BufferSlice labels, int n, int classes, int plane, int ignoreLabel);
}
