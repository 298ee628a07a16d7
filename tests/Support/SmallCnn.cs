using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Support;

/// <summary>conv-BN-Mish x2 with a pool between, global average pool, dense: a thin VoVNet-like classifier for training tests.</summary>
public static class SmallCnn
{
    public static Graph.Graph Build(Shape input, int classes)
    {
        var b = new GraphBuilder("small-cnn");
        var x = b.Input("image", input);
        var label = b.Input("label", new Shape(), isInt: true);
        var h = b.Mish(b.BatchNorm(b.Conv2d(x, 8, 3, stride: 2, padding: 1, bias: false)));
        h = b.MaxPool(h, 2, 2);
        h = b.Mish(b.BatchNorm(b.Conv2d(h, 16, 3, padding: 1, bias: false)));
        var logits = b.Dense(b.GlobalAvgPool(h), classes, name: "fc");
        b.Output("logits", logits);
        b.SetLoss(b.SoftmaxCrossEntropy(logits, label));
        return b.Build();
    }
}
