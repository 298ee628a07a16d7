using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Nets;

/// <summary>
/// VoVNet-57 (SPEC §1, seed 000). Every convolution is conv (no bias) -> norm -> Mish. A stem of
/// three 3x3 convs (the first with stride 2), then four stages, each a 3x3/2 max pool (padding 1)
/// followed by One-Shot Aggregation modules, then global average pooling and a dense layer with bias.
/// </summary>
/// <remarks>
/// Parameters at 1000 classes: 31,430,184 (conv weights + norm scale and shift + dense weight
/// and bias); the paper variant (module input also concatenated) 36,640,296. The seed states
/// 31,429,159, exactly 1,025 = 1024 + 1 fewer: one row of the dense head (1024 weights and its
/// bias), i.e. precisely this net built for 999 classes. No other single omission fits: a
/// bias-free head would be 1,000 fewer, a missing norm layer 2 x its channels (a multiple of 64),
/// and BN running statistics would add, not subtract. So the seed's figure was most likely taken
/// from a model with a 999-way head (the seed mentions one of the 1,000 classes that could not be
/// downloaded and was later substituted), not from a different layer layout.
/// Multiply-accumulates per 224x224 image: 8,853,073,920 (convolutions and the dense layer;
/// norms, activations and pools are not counted).
/// </remarks>
public static class VoVNet
{
    /// <summary>(mid channels, out channels, modules) of stages 2..5.</summary>
    private static readonly (int Mid, int Out, int Modules)[] Stages57 =
        [(128, 256, 1), (160, 512, 1), (192, 768, 4), (224, 1024, 3)];

    private static readonly int[] StemWidths = [64, 64, 128];

    /// <summary>Five stride-2 layers (stem conv, four pools) reduce the image 32-fold (224 -> 7).</summary>
    public const int MinimumSide = 32;

    /// <param name="inputInConcat">The VoVNet paper's OSA: the module input joins the concatenation.</param>
    public static Graph.Graph Build(string name, Shape input, int classes, Norm norm, double width, bool inputInConcat,
        bool fuseNormActivation = true, Distributed.ICollectives? normGroup = null)
    {
        // Padded strided layers would still "work" below this, but each stage would then see a
        // map it cannot halve, degenerating into 1x1 convolutions on a single pixel.
        if (input[1] < MinimumSide || input[2] < MinimumSide)
            throw new ShapeException($"input {input[1]}x{input[2]} is smaller than {MinimumSide}x{MinimumSide}, the least {name} takes: its five stride-2 layers reduce the image {MinimumSide}-fold (224 -> 7)");
        var b = new GraphBuilder(name) { FuseNormActivation = fuseNormActivation, NormGroup = normGroup };
        var (image, label) = Blocks.Inputs(b, input, new Shape());
        var x = Backbone(b, image, norm, width, inputInConcat)[^1];

        using (b.Scope("head"))
        {
            x = b.GlobalAvgPool(x, "gap");
            x = b.Dense(x, classes, bias: true, name: "fc");
        }
        Blocks.Finish(b, x, label);
        return b.Build();
    }

    /// <summary>
    /// The stem and the four stages without the head; returns the stages' outputs, at strides 4,
    /// 8, 16 and 32 of the image (256, 512, 768 and 1024 channels at width 1). Declared as the
    /// graph's backbone (what `--freeze backbone` holds fixed).
    /// </summary>
    public static Value[] Backbone(GraphBuilder b, Value image, Norm norm, double width, bool inputInConcat) =>
        Backbone(b, image, norm, width, inputInConcat, out _);

    /// <summary>The same, also giving the stem's output (stride 2, 128 channels at width 1).</summary>
    public static Value[] Backbone(GraphBuilder b, Value image, Norm norm, double width, bool inputInConcat, out Value stem)
    {
        using var backbone = b.Backbone();
        var x = image;
        using (b.Scope("stem"))
            for (int i = 0; i < StemWidths.Length; i++)
                x = b.ConvUnit(x, $"conv{i + 1}", Blocks.Scale(StemWidths[i], width), 3, norm, Activation.Mish, bias: false, stride: i == 0 ? 2 : 1);
        stem = x;

        var features = new Value[Stages57.Length];
        for (int s = 0; s < Stages57.Length; s++)
        {
            var (mid, outC, modules) = Stages57[s];
            using var stage = b.Scope($"stage{s + 2}");
            x = b.MaxPool(x, 3, 2, 1, name: "pool");
            for (int m = 0; m < modules; m++)
                using (b.Scope($"osa{m + 1}"))
                    x = Osa(b, x, Blocks.Scale(mid, width), Blocks.Scale(outC, width), norm, inputInConcat);
            features[s] = x;
        }
        return features;
    }

    /// <summary>Five 3x3 conv units in sequence, their outputs concatenated once, a 1x1 conv unit to <paramref name="outChannels"/>.</summary>
    private static Value Osa(GraphBuilder b, Value x, int mid, int outChannels, Norm norm, bool inputInConcat)
    {
        var parts = new List<Value>();
        if (inputInConcat) parts.Add(x);
        var y = x;
        for (int i = 1; i <= 5; i++)
        {
            y = b.ConvUnit(y, $"conv{i}", mid, 3, norm, Activation.Mish, bias: false);
            parts.Add(y);
        }
        var cat = b.Concat([.. parts], "concat");
        return b.ConvUnit(cat, "proj", outChannels, 1, norm, Activation.Mish, bias: false);
    }
}
