using Engine.Data;
using Engine.Graph;

namespace Engine.Training;

/// <summary>Finds where NaN or infinity first shows in a net: the first layer (node, in graph order) and what of it.</summary>
public static class NonFinite
{
    /// <summary>
    /// The first layer whose weights or states (and, with <paramref name="gradients"/>, the gradients of
    /// the last backward pass) hold a non-finite number, e.g. "layer 'enc1.conv' (gradient of enc1.conv.weight)"; null when all are finite.
    /// </summary>
    public static string? InParameters(ParameterBuffers p, bool gradients)
    {
        foreach (var node in p.Graph.Nodes)
        {
            foreach (var v in node.Params)
            {
                if (!Finite(p, p.Slice(p.Values, v))) return $"layer '{node.Name}' ({v.Name})";
                if (gradients && p.GradSlice(v) is { } g && !Finite(p, g)) return $"layer '{node.Name}' (gradient of {v.Name})";
            }
            foreach (var v in node.States)
                if (!Finite(p, p.Slice(p.States, v))) return $"layer '{node.Name}' ({v.Name})";
        }
        return null;
    }

    /// <summary>
    /// The first layer whose output is non-finite in an inference forward pass of <paramref name="batch"/>;
    /// the outputs are only readable when kept, so this runs one pass of its own with every value kept.
    /// </summary>
    public static string? InOutputs(Graph.Graph graph, Backend backend, ParameterBuffers p, Batch batch)
    {
        using var exec = new Executor(graph, backend, batch.Count, new ExecutorOptions { KeepAll = true }, p);
        exec.SetInput("image", batch.Images.Span, batch.Layout);
        exec.SetInput("label", batch.Labels.Span);
        exec.Forward(training: false);
        foreach (var node in graph.Nodes)
            foreach (var o in node.Outputs)
                if (o.IsFloat && !exec.Read(o).All(double.IsFinite)) return $"layer '{node.Name}' (its output)";
        return null;
    }

    private static bool Finite(ParameterBuffers p, BufferSlice s)
    {
        if (s.Count == 0) return true;
        var a = new double[s.Count];
        p.Backend.Download(s, a);
        return a.All(double.IsFinite);
    }
}
