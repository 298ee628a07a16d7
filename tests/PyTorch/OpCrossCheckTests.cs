using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.PyTorch;

/// <summary>Every op PyTorch also has, forward and backward, against PyTorch CPU in float64 and float32.</summary>
[TestFixture, NonParallelizable]
public class OpCrossCheckTests
{
    private static Graph.Graph One(Shape[] inputs, Func<GraphBuilder, Value[], Value> op, bool[]? isInt = null)
    {
        var b = new GraphBuilder("case");
        var xs = inputs.Select((s, i) => b.Input($"x{i}", s, isInt?[i] ?? false)).ToArray();
        b.Output("y", op(b, xs));
        return b.Build();
    }

    private static CrossCheckCase Conv(string id, int c, int h, int w, int outC, int k, int stride, int pad, int dil, int groups, bool bias) => new()
    {
        Id = id, Kind = "conv",
        Build = () => One([new(c, h, w)], (b, x) => b.Conv2d(x[0], outC, k, stride, pad, dil, groups, bias, "op")),
        Args = new() { ["stride"] = stride, ["padding"] = pad, ["dilation"] = dil, ["groups"] = groups },
    };

    private static CrossCheckCase Pool(string id, string kind, int h, int w, int k, int s, int p, bool ceil, bool includePad = true) => new()
    {
        Id = id, Kind = kind,
        Build = () => One([new(3, h, w)], (b, x) => kind switch
        {
            "max_pool" => b.MaxPool(x[0], k, s, p, ceil, "op"),
            "avg_pool" => b.AvgPool(x[0], k, s, p, ceil, includePad, "op"),
            _ => Dual(b, x[0], k, s, p, ceil),
        }),
        Args = new() { ["kernel"] = k, ["stride"] = s, ["padding"] = p, ["ceil"] = ceil, ["count_include_pad"] = includePad },
    };

    private static CrossCheckCase Lrn(string id, Shape sample, int size, double alpha, double beta, double k) => new()
    {
        Id = id, Kind = "lrn",
        Build = () => One([sample], (b, x) => b.Lrn(x[0], size, alpha, beta, k, "op")),
        Args = new() { ["size"] = size, ["alpha"] = alpha, ["beta"] = beta, ["k"] = k },
    };

    private static Value Dual(GraphBuilder b, Value x, int k, int s, int p, bool ceil)
    {
        var (v, i) = b.MaxPoolWithIndices(x, k, s, p, ceil, "op");
        b.Output("y_indices", i);
        return v;
    }

    private static int[] Labels(Shape shape, Rng rng, int classes, int ignore)
    {
        var l = new int[shape.Numel];
        for (int i = 0; i < l.Length; i++) l[i] = ignore >= 0 && rng.NextDouble() < 0.2 ? ignore : rng.NextInt(classes);
        return l;
    }

    public static IEnumerable<CrossCheckCase> Cases()
    {
        yield return Conv("conv_3x3_s1_p1_bias", 3, 7, 6, 4, 3, 1, 1, 1, 1, true);
        yield return Conv("conv_3x3_s2_p1_nobias", 4, 9, 9, 5, 3, 2, 1, 1, 1, false);
        yield return Conv("conv_dilated", 2, 9, 8, 3, 3, 1, 2, 2, 1, true);
        yield return Conv("conv_groups2", 4, 6, 6, 6, 3, 1, 1, 1, 2, false);
        yield return Conv("conv_depthwise", 4, 7, 7, 4, 3, 2, 1, 1, 4, false);
        yield return Conv("conv_1x1", 5, 4, 3, 7, 1, 1, 0, 1, 1, true);
        yield return new() { Id = "dense", Kind = "dense", Build = () => One([new(3, 2, 2)], (b, x) => b.Dense(x[0], 5, true, "op")) };
        foreach (var training in new[] { true, false })
            yield return new()
            {
                Id = training ? "batch_norm_train" : "batch_norm_eval", Kind = "batch_norm", Training = training, Batch = 3,
                Build = () => One([new(4, 5, 3)], (b, x) => b.BatchNorm(x[0], 0.1, 1e-5, "op")),
                Args = new() { ["momentum"] = 0.1, ["eps"] = 1e-5 },
            };
        foreach (var act in new[] { ActivationKind.Relu, ActivationKind.Mish })
            foreach (var training in new[] { true, false })
                yield return new()
                {
                    Id = $"batch_norm_{act.ToString().ToLowerInvariant()}_{(training ? "train" : "eval")}", Kind = "batch_norm_act",
                    Training = training, Batch = 3,
                    Build = () => One([new(4, 5, 3)], (b, x) => b.BatchNormActivation(x[0], act, 0.1, 1e-5, "op")),
                    Args = new() { ["momentum"] = 0.1, ["eps"] = 1e-5, ["activation"] = act == ActivationKind.Mish ? "mish" : "relu" },
                };
        yield return new()
        {
            Id = "group_norm", Kind = "group_norm",
            Build = () => One([new(6, 5, 3)], (b, x) => b.GroupNorm(x[0], 3, 1e-5, "op")),
            Args = new() { ["groups"] = 3, ["eps"] = 1e-5 },
        };
        yield return new() { Id = "mish", Kind = "mish", Build = () => One([new(3, 5, 4)], (b, x) => b.Mish(x[0], "op")) };
        // PyTorch's alpha is divided by the size; the engine's is the paper's (xcheck.py passes alpha * size).
        yield return Lrn("lrn_vgg", new(7, 3, 4), 5, 1e-4, 0.75, 2);
        yield return Lrn("lrn_strong", new(6, 4, 3), 3, 0.6, 0.9, 1.2);
        yield return new() { Id = "relu", Kind = "relu", Build = () => One([new(3, 5, 4)], (b, x) => b.Relu(x[0], "op")) };
        yield return new() { Id = "add", Kind = "add", Build = () => One([new(3, 4, 4), new(3, 4, 4)], (b, x) => b.Add(x[0], x[1], "op")) };
        yield return Pool("max_pool_3x3_s2_p1", "max_pool", 7, 7, 3, 2, 1, false);
        yield return Pool("max_pool_2x2_ceil", "max_pool", 5, 7, 2, 2, 0, true);
        yield return Pool("max_pool_indices_3x3_s2_p1", "max_pool_indices", 9, 8, 3, 2, 1, false);
        yield return Pool("max_pool_indices_2x2_ceil", "max_pool_indices", 7, 5, 2, 2, 0, true);
        yield return Pool("avg_pool_3x3_s2_p1", "avg_pool", 7, 6, 3, 2, 1, false);
        yield return Pool("avg_pool_exclude_pad_ceil", "avg_pool", 6, 7, 3, 2, 1, true, false);
        yield return new()
        {
            Id = "pool_unpool", Kind = "pool_unpool",
            Build = () => One([new(3, 6, 8)], (b, x) =>
            {
                var (v, i) = b.MaxPoolWithIndices(x[0], 2, 2, 0, false, "pool");
                return b.MaxUnpool(b.Add(v, v, "twice"), i, 6, 8, "op");
            }),
            Args = new() { ["kernel"] = 2, ["stride"] = 2 },
        };
        foreach (var (h, w, oh, ow) in new[] { (2, 3, 7, 7), (9, 5, 4, 3) })
            yield return new()
            {
                Id = $"adaptive_avg_pool_{h}x{w}_to_{oh}x{ow}", Kind = "adaptive_avg_pool", Build = () => One([new(3, h, w)], (b, x) => b.AdaptiveAvgPool(x[0], oh, ow, "op")),
                Args = new() { ["height"] = oh, ["width"] = ow },
            };
        yield return new() { Id = "global_avg_pool", Kind = "global_avg_pool", Build = () => One([new(4, 5, 3)], (b, x) => b.GlobalAvgPool(x[0], "op")) };
        yield return new()
        {
            Id = "upsample_nearest", Kind = "upsample", Args = new() { ["scale"] = 2 },
            Build = () => One([new(3, 3, 5)], (b, x) => b.UpsampleNearest(x[0], 2, "op")),
        };
        yield return new()
        {
            Id = "concat", Kind = "concat",
            Build = () => One([new(2, 3, 4), new(3, 3, 4), new(1, 3, 4)], (b, x) => b.Concat(x, "op")),
        };
        yield return new()
        {
            Id = "dropout_eval", Kind = "dropout_eval", Training = false, Args = new() { ["p"] = 0.5 },
            Build = () => One([new(3, 4, 4)], (b, x) => b.Dropout(x[0], 0.5, "op")),
        };
        yield return new()
        {
            Id = "cross_entropy_per_sample", Kind = "cross_entropy", Batch = 5, Args = new() { ["ignore"] = -100 },
            Build = () => One([new(7), new()], (b, x) => b.SoftmaxCrossEntropy(x[0], x[1], -1, "op"), [false, true]),
            IntInput = (_, s, rng) => Labels(s, rng, 7, -1),
        };
        yield return new()
        {
            Id = "cross_entropy_per_pixel_ignore", Kind = "cross_entropy", Batch = 2, Args = new() { ["ignore"] = 255 },
            Build = () => One([new(5, 4, 6), new(4, 6)], (b, x) => b.SoftmaxCrossEntropy(x[0], x[1], 255, "op"), [false, true]),
            IntInput = (_, s, rng) => Labels(s, rng, 5, 255),
        };
        foreach (var (loss, perPixel) in new[] { ("focal_loss", false), ("focal_loss", true), ("dice_loss", false), ("dice_loss", true) })
            yield return SoftmaxLoss(loss, perPixel);
    }

    /// <summary>The focal (gamma 2) or Dice (smooth 1) loss on per-sample logits, or per-pixel with ignored pixels.</summary>
    private static CrossCheckCase SoftmaxLoss(string kind, bool perPixel)
    {
        int ignore = perPixel ? 255 : -1, classes = perPixel ? 5 : 7;
        Shape logits = perPixel ? new(classes, 4, 6) : new(classes), labels = perPixel ? new(4, 6) : new();
        return new()
        {
            Id = $"{kind}_{(perPixel ? "per_pixel_ignore" : "per_sample")}", Kind = kind, Batch = perPixel ? 2 : 5,
            Args = new() { ["ignore"] = ignore, ["gamma"] = 2.0, ["smooth"] = 1.0 },
            Build = () => One([logits, labels], (b, x) => kind == "focal_loss"
                ? b.SoftmaxFocalLoss(x[0], x[1], 2, ignore, "op") : b.SoftmaxDiceLoss(x[0], x[1], 1, ignore, "op"), [false, true]),
            IntInput = (_, s, rng) => Labels(s, rng, classes, ignore),
        };
    }

    private CrossCheckRun? _run;

    [OneTimeSetUp]
    public void RunPyTorch() => _run = CrossCheckRun.Start(Cases(), "ops");

    [OneTimeTearDown]
    public void CleanUp() => _run?.Dispose();

    [TestCaseSource(nameof(Cases))]
    public void Float64_matches_pytorch(CrossCheckCase c) => _run!.Compare(c, useDouble: true, tolerance: 1e-10);

    [TestCaseSource(nameof(Cases))]
    public void Float32_matches_pytorch(CrossCheckCase c) => _run!.Compare(c, useDouble: false, tolerance: 1e-5);
}
