using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Nets;

/// <summary>
/// `vovnet57-seg`, the real-time segmentation net of seed 000's part 2 (SPEC §1): the vovnet57
/// backbone (same parameter names, so its trained weights load) gives features at strides 4, 8,
/// 16 and 32; a JPU context module and a DeepLabv3+-like decoder turn them into class scores at
/// the input's resolution. Every conv is conv (no bias) -> norm -> Mish, as in the backbone,
/// except the depthwise convs and the classifier.
/// JPU ("jpu."): a 3x3 conv unit to 512 on each of strides 8, 16 and 32; the two deeper ones
/// nearest-upsampled to stride 8; the three concatenated (1536); four parallel depthwise-separable
/// 3x3 units to 512 with dilation 1, 2, 4 and 8, concatenated (2048).
/// Decoder ("decoder."): a 1x1 unit to 320, 2x nearest upsampling to stride 4, concatenated with
/// a 1x1 unit to 64 of the stride-4 feature (384), a separable 3x3 unit to 320, two 2x nearest
/// upsamplings, and a 1x1 conv with bias to the classes ("classifier"), at full resolution.
/// All widths scale with the width multiplier.
/// `vovnet57-seg-fine` (fine in <see cref="Build"/>) adds a refining path beside the two blind 2x
/// upsamplings, whose class scores are constant over 4x4 blocks (too coarse for thin objects such
/// as pen strokes: on the MNIST-composed set the best 4x4-block answer has a mean digit IoU of
/// about 51 %). From the stride-2 upsampling ("up2"): concatenated with the stem's output (128), a
/// 3x3 unit to 128 ("refine2"); 2x up to full resolution ("refine2_up"), concatenated with a 3x3
/// unit to 64 of the image itself ("image"), a 3x3 unit to 64 ("refine1"). The classifier reads
/// the upsampled decoder features ("up1", as in vovnet57-seg) and "refine1" concatenated
/// ("concat0"), so the class evidence keeps its direct path and the refinement adds the detail.
/// </summary>
public static class VoVNetSeg
{
    private const int JpuWidth = 512, DecoderWidth = 320, SkipWidth = 64, RefineWidth = 128, ImageWidth = 64, FineWidth = 64;
    private static readonly int[] Dilations = [1, 2, 4, 8];

    /// <summary>The deepest feature is at stride 32, and upsampling it must land on the shallower maps.</summary>
    public const int SideMultiple = 32;

    public static Graph.Graph Build(string name, Shape input, int classes, Norm norm, double width, int ignoreLabel,
        SegmentationLoss loss, bool fuseNormActivation = true, bool fine = false)
    {
        if (input[1] % SideMultiple != 0 || input[2] % SideMultiple != 0 || input[1] == 0 || input[2] == 0)
            throw new ShapeException($"{name}: input height and width must be positive multiples of {SideMultiple} (its features at stride 32 are upsampled onto those at strides 16, 8 and 4), got {input[1]}x{input[2]}");
        var b = new GraphBuilder(name) { FuseNormActivation = fuseNormActivation };
        var (image, label) = Blocks.Inputs(b, input, new Shape(input[1], input[2]));
        var features = VoVNet.Backbone(b, image, norm, width, inputInConcat: false, out var stem);

        Value context;
        using (b.Scope("jpu"))
        {
            int jpu = Blocks.Scale(JpuWidth, width);
            var maps = new Value[3];
            for (int i = 0; i < 3; i++)
            {
                int stride = 8 << i;
                maps[i] = b.ConvUnit(features[i + 1], $"conv{stride}", jpu, 3, norm, Activation.Mish, bias: false);
                if (i > 0) maps[i] = b.UpsampleNearest(maps[i], 1 << i, $"up{stride}");
            }
            var joint = b.Concat(maps, "concat");
            var branches = Dilations.Select(d => b.SeparableUnit(joint, $"dilation{d}", jpu, norm, Activation.Mish, d)).ToArray();
            context = b.Concat(branches, "context");
        }

        Value x;
        using (b.Scope("decoder"))
        {
            x = b.ConvUnit(context, "reduce", Blocks.Scale(DecoderWidth, width), 1, norm, Activation.Mish, bias: false);
            x = b.UpsampleNearest(x, 2, "up4");
            var skip = b.ConvUnit(features[0], "skip", Blocks.Scale(SkipWidth, width), 1, norm, Activation.Mish, bias: false);
            x = b.Concat([x, skip], "concat");
            x = b.SeparableUnit(x, "fuse", Blocks.Scale(DecoderWidth, width), norm, Activation.Mish);
            x = b.UpsampleNearest(x, 2, "up2");
            if (fine)
            {
                var refined = b.ConvUnit(b.Concat([x, stem], "concat2"), "refine2", Blocks.Scale(RefineWidth, width), 3, norm, Activation.Mish, bias: false);
                refined = b.UpsampleNearest(refined, 2, "refine2_up");
                var pixels = b.ConvUnit(image, "image", Blocks.Scale(ImageWidth, width), 3, norm, Activation.Mish, bias: false);
                refined = b.ConvUnit(b.Concat([refined, pixels], "concat1"), "refine1", Blocks.Scale(FineWidth, width), 3, norm, Activation.Mish, bias: false);
                x = b.Concat([b.UpsampleNearest(x, 2, "up1"), refined], "concat0");
            }
            else x = b.UpsampleNearest(x, 2, "up1");
        }
        var logits = b.Conv2d(x, classes, 1, name: "classifier");
        Blocks.Finish(b, logits, label, ignoreLabel, loss);
        return b.Build();
    }
}
