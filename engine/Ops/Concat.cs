using System.Numerics;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Concatenation along channels (dim 1); every other dimension must agree. Backward splits dy into the inputs' slices.
/// Inputs the memory plan made views of the output are already in place and skipped both ways.
/// </summary>
public sealed partial class Concat : Op
{
    public override string Type => "concat";
    public override bool BackwardReadsInput(int input) => false;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    /// <summary>Inputs whose producers write strided outputs become views into the concatenation: nothing to copy there, nothing to split back.</summary>
    public override bool InputsMayAliasOutput => true;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        if (inputs.Length == 0) throw Bad("needs at least one input");
        var first = inputs[0];
        if (first.Rank < 2) throw Bad($"input 0 of shape {first.DropFirst()} has no channel dimension");
        int channels = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            var s = inputs[i];
            bool fits = s.Rank == first.Rank;
            for (int d = 0; fits && d < s.Rank; d++) fits = d == 1 || s[d] == first[d];
            if (!fits) throw Bad($"input {i} of shape {s.DropFirst()} differs from input 0's {first.DropFirst()} in more than channels");
            channels += s[1];
        }
        var dims = first.Dims.ToArray();
        dims[1] = channels;
        return [new Shape(dims)];
    }

    /// <summary>Elements of one sample of input i, and where they start in one sample of the output.</summary>
    private static (int Count, int Offset)[] Blocks<T>(CpuNode<T> n, int inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var blocks = new (int, int)[inputs];
        int offset = 0;
        for (int i = 0; i < inputs; i++)
        {
            int count = (int)(n.InShape(i).Numel / n.Batch);
            blocks[i] = (count, offset);
            offset += count;
        }
        return blocks;
    }

    public override void Forward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { ForwardNhwc(n); return; }
        var y = n.Out(0);
        int inputs = n.Node.Inputs.Length;
        var blocks = Blocks(n, inputs);
        int sample = (int)(n.OutShape(0).Numel / n.Batch);
        for (int i = 0; i < inputs; i++)
        {
            if (n.InputIsViewOfOutput(i)) continue;
            var x = n.In(i);
            var (count, offset) = blocks[i];
            for (int b = 0; b < n.Batch; b++)
                x.Slice(b * count, count).CopyTo(y.Slice(b * sample + offset, count));
        }
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (n.InNhwc(0)) { BackwardNhwc(n); return; }
        var dy = n.OutGrad(0);
        int inputs = n.Node.Inputs.Length;
        var blocks = Blocks(n, inputs);
        int sample = (int)(n.OutShape(0).Numel / n.Batch);
        for (int i = 0; i < inputs; i++)
        {
            if (!n.HasInGrad(i) || n.InputIsViewOfOutput(i)) continue;
            var dx = n.InGrad(i);
            var (count, offset) = blocks[i];
            for (int b = 0; b < n.Batch; b++)
            {
                var src = dy.Slice(b * sample + offset, count);
                var dst = dx.Slice(b * count, count);
                if (n.OverwriteInGrad(i)) src.CopyTo(dst);
                else for (int k = 0; k < count; k++) dst[k] += src[k];
            }
        }
    }
}

public static partial class Layers
{
    /// <summary>Concatenates along channels (dim 1).</summary>
    public static Value Concat(this GraphBuilder b, Value[] xs, string? name = null)
        => b.Add1(new Concat(), name ?? b.Unique("concat"), xs);
}
