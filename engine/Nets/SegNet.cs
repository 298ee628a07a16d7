using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Nets;

/// <summary>The encoder-decoder segmentation nets of seed 001 (SPEC §2).</summary>
public enum SegNetVariant
{
    /// <summary>`segnet` as the seed built it: pooling indices, dropout 0.5 before the decoder, decoder widths 4f, 2f, f, f.</summary>
    SegNet,
    /// <summary>`fcn` as the seed built it: plain max pools and 2x nearest upsampling, no dropout, decoder widths 4f, 2f, 2f, f.</summary>
    Fcn,
    /// <summary>
    /// `fcn-clean`, the clean ablation: `segnet` with every unpooling replaced by 2x nearest
    /// upsampling (and plain pools), keeping segnet's dropout and decoder widths 4f, 2f, f, f, so that
    /// pooling indices are the only difference between the two (same parameters, 4,476,214).
    /// The ablation cannot go the other way (fcn's widths with unpooling): max-unpooling needs
    /// the channels of the pool it undoes, and fcn's dec2 ends with 2f channels where the first
    /// pool had f, which is why the seed's segnet differs from its fcn in that width.
    /// </summary>
    FcnClean,
}

/// <summary>
/// SegNet and its FCN-style comparison. Encoder (VGG16-shaped, base width f = 32 x width): 2 x f,
/// pool, 2 x 2f, pool, 3 x 4f, pool, 3 x 8f, pool, 3 x 8f; every conv is 3x3 conv (with bias) ->
/// norm -> ReLU. Decoder: four stages, each undoing one pool (max-unpooling to the stored argmax,
/// or 2x nearest upsampling for fcn) followed by 3, 3, 2, 2 conv units; then a 3x3 conv with bias
/// to the classes. The seed's Keras code applies its first two convs both to the input (only one
/// takes effect); the intended two are built here, giving 4,476,214 parameters for segnet.
/// Width 2 is the full-size SegNet at VGG16 widths (64..512).
/// </summary>
public static class SegNet
{
    private static readonly (int Convs, int Widths)[] Encoder = [(2, 1), (2, 2), (3, 4), (3, 8), (3, 8)];

    /// <summary>Decoder stages, deepest first: (conv units, width in units of f).</summary>
    private static (int Convs, int Widths)[] Decoder(SegNetVariant v) => v == SegNetVariant.Fcn
        ? [(3, 4), (3, 2), (2, 2), (2, 1)]
        : [(3, 4), (3, 2), (2, 1), (2, 1)];

    private const int BaseWidth = 32;

    public static Graph.Graph Build(string name, SegNetVariant variant, Shape input, int classes, Norm norm, double width, int ignoreLabel,
        bool fuseNormActivation = true, Distributed.ICollectives? normGroup = null, SegmentationLoss loss = SegmentationLoss.CrossEntropy)
    {
        int pools = Encoder.Length - 1, factor = 1 << pools;
        if (variant != SegNetVariant.SegNet && (input[1] % factor != 0 || input[2] % factor != 0))
            throw new ShapeException($"input height and width must be multiples of {factor} ({pools} pools of 2 undone by 2x upsampling), got {input}");

        var b = new GraphBuilder(name) { FuseNormActivation = fuseNormActivation, NormGroup = normGroup };
        var (image, label) = Blocks.Inputs(b, input, new Shape(input[1], input[2]));
        bool indices = variant == SegNetVariant.SegNet;
        var x = image;
        var skips = new Stack<(Value Indices, Shape Size)>();
        for (int s = 0; s < Encoder.Length; s++)
        {
            var (convs, widths) = Encoder[s];
            using var scope = b.Scope($"enc{s + 1}");
            for (int i = 1; i <= convs; i++)
                x = b.ConvUnit(x, $"conv{i}", Blocks.Scale(BaseWidth * widths, width), 3, norm, Activation.Relu, bias: true);
            if (s == Encoder.Length - 1) break;
            if (indices)
            {
                var size = x.Shape;
                (x, var argmax) = b.MaxPoolWithIndices(x, 2, 2, name: "pool");
                skips.Push((argmax, size));
            }
            else x = b.MaxPool(x, 2, 2, name: "pool");
        }

        if (variant != SegNetVariant.Fcn) x = b.Dropout(x, 0.5, "dropout");

        var decoder = Decoder(variant);
        for (int s = 0; s < decoder.Length; s++)
        {
            var (convs, widths) = decoder[s];
            using var scope = b.Scope($"dec{pools - s}");
            if (indices)
            {
                var (argmax, size) = skips.Pop();
                x = b.MaxUnpool(x, argmax, size[2], size[3], "unpool");
            }
            else x = b.UpsampleNearest(x, 2, "upsample");
            for (int i = 1; i <= convs; i++)
                x = b.ConvUnit(x, $"conv{i}", Blocks.Scale(BaseWidth * widths, width), 3, norm, Activation.Relu, bias: true);
        }

        var logits = b.Conv2d(x, classes, 3, padding: 1, name: "classifier");
        Blocks.Finish(b, logits, label, ignoreLabel, loss);
        return b.Build();
    }
}
