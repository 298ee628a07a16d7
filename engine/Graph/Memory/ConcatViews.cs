using Engine.Tensors;

namespace Engine.Graph.Memory;

/// <summary>Where a value that is a view lies in its root value: a channel slice, one block per sample.</summary>
/// <param name="Root">The value whose storage holds this one (a concatenation's output).</param>
/// <param name="ByteOffset">Bytes from the root's first element to this value's first element.</param>
/// <param name="SampleStride">Elements from one sample of this value to the next (the root's per-sample size).</param>
public readonly record struct ViewPlacement(Value Root, long ByteOffset, long SampleStride);

/// <summary>
/// Decides which inputs of concatenations become views into the concatenation (OSA's layers
/// then write straight into it): those whose producer writes strided outputs and whose every
/// other consumer reads strided inputs. Anything else is copied by the concatenation, as before.
/// </summary>
public static class ConcatViews
{
    public static Dictionary<Value, ViewPlacement> Find(Graph graph, Shape[] shapes, int elementBytes)
    {
        var consumers = Consumers(graph);
        var views = new Dictionary<Value, ViewPlacement>();
        foreach (var node in graph.Nodes.Where(n => n.Op.InputsMayAliasOutput))
        {
            var root = node.Outputs[0];
            var rootShape = shapes[root.Id];
            long perSample = rootShape.Numel / rootShape[0];
            long inner = perSample / rootShape[1];
            long channelOffset = 0;
            for (int k = 0; k < node.Inputs.Length; k++)
            {
                var v = node.Inputs[k];
                if (CanView(v, node, k, consumers, views))
                    views[v] = new ViewPlacement(root, channelOffset * inner * elementBytes, perSample);
                channelOffset += shapes[v.Id][1];
            }
        }
        return views;
    }

    private static bool CanView(Value v, Node concat, int slot, Dictionary<Value, List<(Node Node, int Slot)>> consumers, Dictionary<Value, ViewPlacement> views)
    {
        if (!v.IsFloat || v.Producer is not { } producer || views.ContainsKey(v)) return false;
        if (!producer.Op.WritesStridedOutput(v.Index)) return false;
        if (producer.Op.InputsMayAliasOutput) return false;   // no views of views
        foreach (var (node, s) in consumers[v])
        {
            if (node == concat && s == slot) continue;
            if (node == concat) return false;                    // the same value twice in one concatenation
            if (node.Op.InputsMayAliasOutput || !node.Op.ReadsStridedInput(s)) return false;
        }
        return true;
    }

    public static Dictionary<Value, List<(Node Node, int Slot)>> Consumers(Graph graph)
    {
        var map = new Dictionary<Value, List<(Node, int)>>();
        foreach (var v in graph.Inputs) map[v] = [];
        foreach (var node in graph.Nodes)
        {
            foreach (var o in node.Outputs) map[o] = [];
            for (int s = 0; s < node.Inputs.Length; s++) map[node.Inputs[s]].Add((node, s));
        }
        return map;
    }
}
