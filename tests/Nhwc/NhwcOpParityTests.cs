using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Nhwc;

/// <summary>
/// Every op the nets use, run once in NCHW and once in NHWC from the same weights, inputs and
/// output gradients: outputs, input gradients, parameter gradients and running statistics agree
/// (read back in NCHW order). In float64 within 1e-11 of each tensor's scale; in float32 bit for
/// bit where the NHWC path adds in the NCHW order (pools, upsampling, concatenation, elementwise
/// ops, dropout, unpooling, LRN), within 2e-5 where it cannot (GEMMs, batch statistics, the losses'
/// per-pixel path). Ragged sizes (odd, non-square maps, channel counts that fill no vector) throughout.
/// </summary>
public class NhwcOpParityTests
{
    private const int Batch = 3;

    public sealed record Case(string Name, Func<GraphBuilder, Value, Value> Body, Shape Input, bool FloatBitwise, int Batch = Batch, bool Eval = false)
    {
        public override string ToString() => Name;
    }

    private static int[] Labels(long count, int classes, bool ignore) =>
        Enumerable.Range(0, (int)count).Select(i => ignore && i % 7 == 3 ? 255 : (i * 5 + i / 3) % classes).ToArray();

    private static Case Loss(string name, Func<GraphBuilder, Value, Value, Value> loss) =>
        new(name, (b, x) =>
        {
            var labels = b.Input("label", new Shape(5, 7), DataType.I32);
            var l = loss(b, x, labels);
            b.SetLoss(l);
            return l;
        }, new Shape(4, 5, 7), FloatBitwise: false);

    public static IEnumerable<Case> Cases()
    {
        var ragged = new Shape(5, 7, 9);
        yield return new Case("conv 3x3 pad 1", (b, x) => b.Conv2d(x, 6, 3, padding: 1), ragged, false);
        yield return new Case("conv 3x3 stride 2 no bias", (b, x) => b.Conv2d(x, 4, 3, stride: 2, padding: 1, bias: false), ragged, false);
        yield return new Case("conv 1x1", (b, x) => b.Conv2d(x, 7, 1), ragged, false);
        yield return new Case("conv 5x5 stride 3 pad 2", (b, x) => b.Conv2d(x, 3, 5, stride: 3, padding: 2), ragged, false);
        yield return new Case("conv 3x3 dilation 2", (b, x) => b.Conv2d(x, 4, 3, padding: 2, dilation: 2), ragged, false);
        yield return new Case("conv groups 2", (b, x) => b.Conv2d(x, 6, 3, padding: 1, groups: 2), new Shape(4, 6, 5), false);
        yield return new Case("conv depthwise stride 2", (b, x) => b.Conv2d(x, 5, 3, stride: 2, padding: 1, groups: 5), ragged, false);
        yield return new Case("conv depthwise x2 dilation 2", (b, x) => b.Conv2d(x, 10, 3, padding: 2, dilation: 2, groups: 5, bias: false), ragged, false);
        yield return new Case("batchnorm", (b, x) => b.BatchNorm(x), ragged, false);
        yield return new Case("batchnorm eval", (b, x) => b.BatchNorm(x), ragged, false, Eval: true);
        yield return new Case("bn+relu", (b, x) => b.BatchNormActivation(x, ActivationKind.Relu), ragged, false);
        yield return new Case("bn+mish", (b, x) => b.BatchNormActivation(x, ActivationKind.Mish), ragged, false);
        yield return new Case("bn+mish eval", (b, x) => b.BatchNormActivation(x, ActivationKind.Mish), ragged, false, Eval: true);
        yield return new Case("syncbatchnorm (one rank)", (b, x) => b.SyncBatchNorm(x, Engine.Distributed.SingleProcess.Instance), ragged, false);
        yield return new Case("groupnorm", (b, x) => b.GroupNorm(x, groups: 3), new Shape(6, 5, 7), false);
        yield return new Case("relu", (b, x) => b.Relu(x), ragged, true);
        yield return new Case("mish", (b, x) => b.Mish(x), ragged, true);
        yield return new Case("add", (b, x) => b.Add(b.Relu(x), b.Mish(x)), ragged, true);
        yield return new Case("dropout", (b, x) => b.Dropout(x, 0.4), ragged, true);
        yield return new Case("maxpool 2/2", (b, x) => b.MaxPool(x, 2, 2), ragged, true);
        yield return new Case("maxpool 3/2 pad 1 ceil", (b, x) => b.MaxPool(x, 3, 2, 1, ceilMode: true), ragged, true);
        yield return new Case("maxpool with indices, unpool", (b, x) =>
        {
            var (v, idx) = b.MaxPoolWithIndices(x, 2, 2, ceilMode: true);
            b.Output("indices", idx);
            return b.MaxUnpool(b.Mish(v), idx, 7, 9);
        }, ragged, true);
        yield return new Case("avgpool 3/2 pad 1", (b, x) => b.AvgPool(x, 3, 2, 1), ragged, true);
        yield return new Case("avgpool 3/2 pad 1 ceil, pad not counted", (b, x) => b.AvgPool(x, 3, 2, 1, ceilMode: true, countIncludePad: false), ragged, true);
        yield return new Case("global avgpool", (b, x) => b.GlobalAvgPool(x), ragged, true);
        yield return new Case("adaptive avgpool 7x9 to 3x4", (b, x) => b.AdaptiveAvgPool(x, 3, 4), ragged, true);
        yield return new Case("upsample x2", (b, x) => b.UpsampleNearest(x, 2), ragged, true);
        yield return new Case("upsample x3", (b, x) => b.UpsampleNearest(x, 3), new Shape(3, 2, 3), true);
        yield return new Case("concat", (b, x) => b.Concat([b.Relu(x), x, b.Mish(b.UpsampleNearest(b.MaxPool(x, 2, 2), 2))]),
            new Shape(3, 6, 4), true);
        yield return new Case("lrn", (b, x) => b.Lrn(x, size: 3, alpha: 0.5, beta: 0.75, k: 2), ragged, true);
        yield return new Case("dense after a 4-D map (flatten)", (b, x) => b.Dense(x, 6), ragged, false);
        yield return new Case("dense after global pool", (b, x) => b.Dense(b.GlobalAvgPool(x), 4), ragged, false);
        yield return Loss("softmax cross-entropy, ignore 255", (b, x, l) => b.SoftmaxCrossEntropy(x, l, ignoreLabel: 255));
        yield return Loss("softmax focal, ignore 255", (b, x, l) => b.SoftmaxFocalLoss(x, l, gamma: 2, ignoreLabel: 255));
        yield return Loss("softmax dice, ignore 255", (b, x, l) => b.SoftmaxDiceLoss(x, l, smooth: 1, ignoreLabel: 255));
    }

    private static Graph.Graph Build(Case c)
    {
        var b = new GraphBuilder(c.Name);
        var y = c.Body(b, b.Input("x", c.Input));
        b.Output("y", y);
        return b.Build();
    }

    private static LayoutRun.Result Run(Case c, bool float64, Layout layout, Action<Executor>? check = null)
    {
        using var backend = LayoutRun.Cpu(float64, layout);
        var options = c.Eval ? new ExecutorOptions { InferenceOnly = true } : new ExecutorOptions { KeepAll = true, InputGradients = true };
        return LayoutRun.Run(Build(c), backend, c.Batch, options, training: !c.Eval,
            ints: (name, count) => Labels(count, 4, ignore: true), check: check);
    }

    [TestCaseSource(nameof(Cases))]
    public void Nhwc_equals_nchw_in_float64(Case c)
    {
        var nchw = Run(c, float64: true, Layout.Nchw);
        var nhwc = Run(c, float64: true, Layout.Nhwc);
        LayoutRun.AssertClose(nchw, nhwc, 1e-11, c.Name);
    }

    [TestCaseSource(nameof(Cases))]
    public void Nhwc_equals_nchw_in_float32(Case c)
    {
        var nchw = Run(c, float64: false, Layout.Nchw);
        var nhwc = Run(c, float64: false, Layout.Nhwc);
        LayoutRun.AssertClose(nchw, nhwc, c.FloatBitwise ? 0 : 2e-5, c.Name);
    }

    /// <summary>The NHWC executor really stores its 4-D values channels-last: the stored order is the NCHW values transposed.</summary>
    [TestCaseSource(nameof(Cases))]
    public void Nhwc_values_are_stored_channels_last(Case c)
    {
        int checkedValues = 0;
        Run(c, float64: true, Layout.Nhwc, exec =>
        {
            foreach (var v in exec.Graph.Inputs.Concat(exec.Graph.Nodes.SelectMany(n => n.Outputs)).Where(v => v.IsFloat && exec.ShapeOf(v).Rank == 4))
            {
                Assert.That(exec.DescOf(v).Layout, Is.EqualTo(Layout.Nhwc), v.Name);
                var nchw = exec.Read(v);
                var expected = new double[nchw.Length];
                LayoutTranspose.ToNhwc<double>(nchw, expected, exec.ShapeOf(v));
                Assert.That(exec.ReadStored(v), Is.EqualTo(expected), v.Name);
                checkedValues++;
            }
        });
        if (!c.Eval) Assert.That(checkedValues, Is.GreaterThan(0));
    }

    /// <summary>
    /// The NHWC convolution takes its batch a few images at a time when its im2row rows would be large:
    /// outputs and input gradients are the same bits, the weight gradient (summed chunk by chunk) the same within rounding.
    /// </summary>
    [Test]
    public void Nhwc_convolution_in_chunks_of_images_equals_one_chunk()
    {
        var c = new Case("conv chunked", (b, x) => b.Conv2d(x, 6, 3, stride: 2, padding: 1), new Shape(5, 7, 9), false, Batch: 5);
        var whole = Run(c, float64: true, Layout.Nhwc);
        long budget = Conv2d.RowBudget;
        try
        {
            Conv2d.RowBudget = 2 * 4 * 5 * 9 * 5;   // two images' rows of 4x5 output pixels x 45 taps
            var chunked = Run(c, float64: true, Layout.Nhwc);
            LayoutRun.AssertClose(whole, chunked, 1e-14, "chunks of 2 images");
            Assert.That(chunked.Tensors["y"], Is.EqualTo(whole.Tensors["y"]));
            Assert.That(chunked.Tensors["d:x"], Is.EqualTo(whole.Tensors["d:x"]));
        }
        finally { Conv2d.RowBudget = budget; }
    }
}
