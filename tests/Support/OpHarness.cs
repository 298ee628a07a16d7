using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Support;

/// <summary>Wraps one op in a graph of its own, for gradient checks and PyTorch comparisons.</summary>
public static class OpHarness
{
    /// <summary>A graph "x0, x1, ... -> op -> y" with float inputs of the given sample shapes (batch excluded).</summary>
    public static (Graph.Graph Graph, Value[] Outputs) Single(Op op, params Shape[] sampleShapes)
    {
        var b = new GraphBuilder(op.Type);
        var inputs = sampleShapes.Select((s, i) => b.Input($"x{i}", s, op.InputType(i))).ToArray();
        var outs = b.Add(op, "op", inputs);
        for (int i = 0; i < outs.Length; i++) b.Output($"y{i}", outs[i]);
        return (b.Build(), outs);
    }
}
