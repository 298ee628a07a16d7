using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Nets;

/// <summary>
/// VGG configurations A (vgg11), A-LRN (vgg11-lrn: A with local response normalisation after the
/// first conv's ReLU, the paper's Table 1), B (vgg13), C (vgg16-c, with three 1x1 convs), D (vgg16) and
/// E (vgg19) per SPEC §3: 3x3 convs (stride 1, padding 1, with bias) + ReLU, 2x2/2 max pools,
/// then FC 4096 - ReLU - dropout 0.5, FC 4096 - ReLU - dropout 0.5, FC classes. The original has
/// no normalization; a norm option inserts BN or GN between each conv and its ReLU. Conv weights
/// are Glorot-initialised as the paper trained from scratch: with its 0..255-scale inputs, He-normal
/// keeps the input's scale to the logits (first loss ~60) and plain SGD at lr 0.01 diverges.
/// </summary>
/// <remarks>
/// fc6 is sized from the final feature map (512x7x7 at 224, 512x1x1 at 32). The dense-evaluation
/// form makes fc6 a KxK convolution (K = <see cref="NetOptions.DenseKernel"/>, 7 for nets trained
/// at 224) and fc7 a 1x1 convolution, with the same names and the same number and order of
/// weights as the FC form (Dense keeps PyTorch's [out, C*K*K] layout, which is the conv's
/// [out, C, K, K] flattened), so one parameter buffer serves both. The class score map is
/// averaged over space: since fc8 is affine, averaging fc7's map and then applying fc8 as a
/// dense layer gives exactly the averaged class scores, and fc8 keeps its FC shape.
/// </remarks>
public static class Vgg
{
    /// <summary>A 3x3 conv of the given width, a 1x1 conv (negative width), a pool (0), or an LRN.</summary>
    private const int Pool = 0;

    /// <summary>Local response normalisation with the paper's (AlexNet's) settings: size 5, alpha 1e-4, beta 0.75, k 2.</summary>
    private const int Lrn = int.MaxValue;

    public static readonly IReadOnlyDictionary<string, int[]> Configs = new Dictionary<string, int[]>
    {
        ["A"] = [64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        ["A-LRN"] = [64, Lrn, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        ["B"] = [64, 64, Pool, 128, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        ["C"] = [64, 64, Pool, 128, 128, Pool, 256, 256, -256, Pool, 512, 512, -512, Pool, 512, 512, -512, Pool],
        ["D"] = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512, Pool],
        ["E"] = [64, 64, Pool, 128, 128, Pool, 256, 256, 256, 256, Pool, 512, 512, 512, 512, Pool, 512, 512, 512, 512, Pool],
    };

    private const int Hidden = 4096;

    /// <summary>The side of torchvision's pooled map before the classifier (224 / 32).</summary>
    public const int AdaptivePoolSide = 7;

    public static Graph.Graph Build(string name, string config, Shape input, int classes, Norm norm, double width,
        bool denseEvaluation, int denseKernel, bool fuseNormActivation = true, Distributed.ICollectives? normGroup = null, bool adaptivePool = false)
    {
        var b = new GraphBuilder(name) { FuseNormActivation = fuseNormActivation, NormGroup = normGroup };
        var (image, label) = Blocks.Inputs(b, input, new Shape());
        var x = image;
        int block = 1, conv = 1;
        foreach (int layer in Configs[config])
        {
            if (layer == Pool)
            {
                x = b.MaxPool(x, 2, 2, name: $"block{block}.pool");
                block++;
                conv = 1;
                continue;
            }
            if (layer == Lrn)
            {
                x = b.Lrn(x, size: 5, alpha: 1e-4, beta: 0.75, k: 2, name: $"block{block}.lrn");
                continue;
            }
            int kernel = layer > 0 ? 3 : 1;
            using (b.Scope($"block{block}"))
                x = b.ConvUnit(x, $"conv{conv++}", Blocks.Scale(Math.Abs(layer), width), kernel, norm, Activation.Relu, bias: true,
                    weightInit: InitKind.Glorot);
        }

        int hidden = Blocks.Scale(Hidden, width);
        if (adaptivePool)
        {
            if (denseEvaluation) throw new NetOptionsException("dense evaluation and adaptive pooling before fc6 exclude each other (the pooled map is always 7x7)");
            x = b.AdaptiveAvgPool(x, AdaptivePoolSide, AdaptivePoolSide, "fc6_pool");
        }
        if (denseEvaluation)
        {
            if (denseKernel < 1) throw new NetOptionsException($"dense-evaluation kernel must be positive, got {denseKernel}");
            x = FcUnit(b, b.Conv2d(x, hidden, denseKernel, name: "fc6"), "fc6");
            x = FcUnit(b, b.Conv2d(x, hidden, 1, name: "fc7"), "fc7");
            x = b.GlobalAvgPool(x, "fc7_average");
        }
        else
        {
            x = FcUnit(b, b.Dense(x, hidden, name: "fc6"), "fc6");
            x = FcUnit(b, b.Dense(x, hidden, name: "fc7"), "fc7");
        }
        var logits = b.Dense(x, classes, name: "fc8");
        Blocks.Finish(b, logits, label);
        return b.Build();
    }

    private static Value FcUnit(GraphBuilder b, Value x, string name) =>
        b.Dropout(b.Relu(x, name + "_relu"), 0.5, name + "_dropout");
}
