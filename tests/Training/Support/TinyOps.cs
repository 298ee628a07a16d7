using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Training.Support;

/// <summary>
/// y[n, o] = sum_i W[o, i] x[n, i] + b[o] (all but the batch dimension flattened); the bias is
/// declared without weight decay so that optimizer tests see both kinds. With
/// <see cref="PerPixel"/>, the same map is applied over the channels of every pixel of an NCHW input.
/// </summary>
internal sealed class TinyLinear(int outFeatures, bool perPixel = false) : Op
{
    public bool PerPixel { get; } = perPixel;
    public override string Type => "tiny-linear";

    private int InFeatures(Shape s) => PerPixel ? s[1] : (int)(s.Numel / s[0]);
    private int Pixels(Shape s) => PerPixel ? s[2] * s[3] : 1;

    public override Shape[] InferShapes(Shape[] inputs) =>
        [PerPixel ? new Shape(inputs[0][0], outFeatures, inputs[0][2], inputs[0][3]) : new Shape(inputs[0][0], outFeatures)];

    public override ParamSpec[] Parameters(Shape[] inputs) =>
    [
        new("weight", new Shape(outFeatures, InFeatures(inputs[0])), Init.Glorot(InFeatures(inputs[0]), outFeatures)),
        new("bias", new Shape(outFeatures), Init.Zeros, WeightDecay: false),
    ];

    public override void Forward<T>(CpuNode<T> n)
    {
        var x = n.In(0).ToArray();
        Span<T> y = n.Out(0), w = n.Param(0), b = n.Param(1);
        int inF = InFeatures(n.InShape(0)), px = Pixels(n.InShape(0));
        for (int s = 0; s < n.Batch; s++)
            for (int o = 0; o < outFeatures; o++)
                for (int p = 0; p < px; p++)
                {
                    T acc = b[o];
                    for (int i = 0; i < inF; i++) acc += w[o * inF + i] * x[(s * inF + i) * px + p];
                    y[(s * outFeatures + o) * px + p] = acc;
                }
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        var (x, dy, w) = (n.In(0).ToArray(), n.OutGrad(0).ToArray(), n.Param(0).ToArray());
        Span<T> dw = n.ParamGrad(0), db = n.ParamGrad(1);
        int inF = InFeatures(n.InShape(0)), px = Pixels(n.InShape(0));
        bool dxWanted = n.HasInGrad(0);
        var dx = dxWanted ? n.InGrad(0) : default;
        for (int s = 0; s < n.Batch; s++)
            for (int o = 0; o < outFeatures; o++)
                for (int p = 0; p < px; p++)
                {
                    T g = dy[(s * outFeatures + o) * px + p];
                    db[o] += g;
                    for (int i = 0; i < inF; i++)
                    {
                        dw[o * inF + i] += g * x[(s * inF + i) * px + p];
                        if (dxWanted) dx[(s * inF + i) * px + p] += g * w[o * inF + i];
                    }
                }
    }
}

/// <summary>Tiny trainable graphs with the registry's conventions: inputs "image" and "label", output "logits", a loss.</summary>
internal static class TinyNets
{
    public static Graph.Graph Classifier(Shape input, int classes, int hidden = 16)
    {
        var b = new GraphBuilder("tiny-mlp");
        var x = b.Input("image", input);
        var label = b.Input("label", new Shape(), isInt: true);
        var h = b.Relu(b.Add1(new TinyLinear(hidden), "fc1", x));
        var logits = b.Add1(new TinyLinear(classes), "fc2", h);
        b.Output("logits", logits);
        b.SetLoss(b.SoftmaxCrossEntropy(logits, label, name: "loss"));
        return b.Build();
    }

    public static Graph.Graph Segmenter(Shape input, int classes, int hidden = 8)
    {
        var b = new GraphBuilder("tiny-seg");
        var x = b.Input("image", input);
        var label = b.Input("label", new Shape(input[1], input[2]), isInt: true);
        var h = b.Relu(b.BatchNorm(b.Add1(new TinyLinear(hidden, perPixel: true), "conv1", x), name: "bn1"));
        var logits = b.Add1(new TinyLinear(classes, perPixel: true), "conv2", h);
        b.Output("logits", logits);
        b.SetLoss(b.SoftmaxCrossEntropy(logits, label, name: "loss"));
        return b.Build();
    }
}
