using System.CommandLine;
using Engine.Graph;
using Engine.Tensors;

namespace Host;

/// <summary>The --layout option of `train` and `eval` (engine/Graph/LAYOUT.md).</summary>
/// <param name="note">What the command does with it, the help's last sentence.</param>
public sealed class LayoutChoice(string note)
{
    public Option<string?> Layout { get; } = new("--layout")
    {
        Description = "How activations and their gradients are stored: nchw (channel planes) or nhwc (channels contiguous per pixel; " +
            "every CPU op computes in it and the loader writes NHWC batches; the GPU's NHWC kernels are not wired yet, so a GPU refuses it). " +
            "Weights keep their layout, so checkpoints serve both. Default: nchw (the plan: nhwc with bf16 on GPUs once their NHWC path exists). " + note,
    };

    public void AddTo(Command c) => c.Options.Add(Layout);

    /// <summary>The layout asked for, or null for the device's default.</summary>
    public Engine.Tensors.Layout? Given(ParseResult r) => r.GetValue(Layout) is not { } text ? null
        : Layouts.Parse(text) ?? throw new UsageException($"--layout '{text}': expected {Layouts.Names}");
}
