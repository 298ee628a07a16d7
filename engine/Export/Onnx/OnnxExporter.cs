using System.Reflection;
using Engine.Graph;
using Engine.Ops;

namespace Engine.Export.Onnx;

/// <summary>A graph that cannot be exported (an op with no ONNX mapping); the message names the layer and the op.</summary>
public sealed class OnnxExportException(string message) : Exception(message);

/// <summary>
/// Exports the inference part of a graph (what "logits" depends on; the loss and the label
/// input are left out) to an ONNX model at opset 18, weights included (engine/Export/Onnx/README.md).
/// The model takes "image" (float, N x C x H x W, N free) and gives "logits", "probabilities"
/// (softmax over the classes) and, for per-pixel nets, "mask" (int64 N x H x W, the arg max class).
/// </summary>
public static class OnnxExporter
{
    public const int Opset = 18;

    public static OnnxGraph Build(Graph.Graph graph, ParameterBuffers parameters)
    {
        var logits = graph.Output("logits");
        var image = graph.Input("image");
        var g = new OnnxGraphBuilder(parameters);
        g.Rename(logits, "logits");
        var needed = Needed(logits);
        foreach (var n in graph.Nodes)
            if (needed.Contains(n)) Emit(g, n);
        if (g.Name(logits) != "logits")   // a removed node (dropout) passed its input on as the logits
            g.Add("Identity", logits.Producer!, [g.Name(logits)], ["logits"]);

        var classes = logits.Shape[1];
        bool perPixel = logits.Shape.Rank == 4;
        object[] scoreDims = perPixel ? ["N", classes, logits.Shape[2], logits.Shape[3]] : ["N", classes];
        var softmaxOwner = logits.Producer!;
        g.Add("Softmax", softmaxOwner, ["logits"], ["probabilities"], ("axis", 1L));
        var outputs = new List<OnnxValueInfo>
        {
            new("logits", OnnxType.Float, scoreDims),
            new("probabilities", OnnxType.Float, scoreDims),
        };
        if (perPixel)
        {
            g.Add("ArgMax", softmaxOwner, ["logits"], ["mask"], ("axis", 1L), ("keepdims", 0L));
            outputs.Add(new("mask", OnnxType.Int64, ["N", logits.Shape[2], logits.Shape[3]]));
        }
        object[] imageDims = ["N", .. image.Shape.Dims[1..].ToArray().Cast<object>()];
        return new OnnxGraph(graph.Name, g.Nodes, g.Initializers, [new("image", OnnxType.Float, imageDims)], outputs);
    }

    /// <summary>Writes the model file (ModelProto) of a graph from <see cref="Build"/>, with optional metadata (preprocessing, class names).</summary>
    public static void Write(Stream stream, OnnxGraph model, IReadOnlyDictionary<string, string>? metadata = null) =>
        OnnxModel.Write(stream, model, Opset, "engine", Version, metadata);

    public static byte[] ToBytes(OnnxGraph model, IReadOnlyDictionary<string, string>? metadata = null) =>
        OnnxModel.ToBytes(model, Opset, "engine", Version, metadata);

    private static string Version => typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>The nodes <paramref name="output"/> depends on.</summary>
    private static HashSet<Node> Needed(Value output)
    {
        var needed = new HashSet<Node>();
        var pending = new Stack<Value>([output]);
        while (pending.TryPop(out var v))
            if (v.Producer is { } p && needed.Add(p))
                foreach (var i in p.Inputs) pending.Push(i);
        return needed;
    }

    private static void Emit(OnnxGraphBuilder g, Node n)
    {
        string[] x = [.. n.Inputs.Select(g.Name)];
        string y = g.Name(n.Outputs[0]);
        switch (n.Op)
        {
            case Conv2d c:
                g.Add("Conv", n, c.HasBias ? [x[0], g.Parameter(n, 0), g.Parameter(n, 1)] : [x[0], g.Parameter(n, 0)], [y],
                    ("kernel_shape", Pair(c.Kernel)), ("strides", Pair(c.Stride)), ("pads", Quad(c.Padding)),
                    ("dilations", Pair(c.Dilation)), ("group", (long)c.Groups));
                break;
            case BatchNorm bn:
                BatchNormalization(g, n, x[0], y, bn.Eps, bn.Momentum);
                break;
            case SyncBatchNorm sbn:   // in evaluation, batch norm with the running statistics every rank shares
                BatchNormalization(g, n, x[0], y, sbn.Eps, sbn.Momentum);
                break;
            case BatchNormActivation bna:
                string normalized = g.Temp(n, "bn");
                BatchNormalization(g, n, x[0], normalized, bna.Eps, bna.Momentum);
                g.Add(bna.Activation == ActivationKind.Mish ? "Mish" : "Relu", n, [normalized], [y]);
                break;
            case GroupNorm gn:
                GroupNormalization(g, n, x[0], y, gn);
                break;
            case Relu:
                g.Add("Relu", n, x, [y]);
                break;
            case Mish:
                g.Add("Mish", n, x, [y]);
                break;
            case Lrn lrn:
                // ONNX (as PyTorch) divides alpha by the size; the engine's alpha multiplies the sum itself (Lrn.cs).
                g.Add("LRN", n, x, [y], ("size", (long)lrn.Size), ("alpha", (float)(lrn.Alpha * lrn.Size)),
                    ("beta", (float)lrn.Beta), ("bias", (float)lrn.K));
                break;
            case Dropout:
                g.Rename(n.Outputs[0], x[0]);   // the identity at inference
                break;
            case MaxPool p:
                g.Add("MaxPool", n, x, p.WithIndices ? [y, g.Name(n.Outputs[1])] : [y],
                    ("kernel_shape", Pair(p.Kernel)), ("strides", Pair(p.Stride)), ("pads", Quad(p.Padding)), ("ceil_mode", p.CeilMode ? 1L : 0L));
                break;
            case MaxUnpool u:
                MaxUnpool(g, n, x, y, u);
                break;
            case AvgPool p:
                g.Add("AveragePool", n, x, [y], ("kernel_shape", Pair(p.Kernel)), ("strides", Pair(p.Stride)), ("pads", Quad(p.Padding)),
                    ("ceil_mode", p.CeilMode ? 1L : 0L), ("count_include_pad", p.CountIncludePad ? 1L : 0L));
                break;
            case GlobalAvgPool:
                g.Add("GlobalAveragePool", n, x, [y]);
                break;
            case UpsampleNearest up:
                // y[h] = x[floor(h / s)]: the asymmetric transform with floor rounding.
                g.Add("Resize", n, [x[0], "", g.Constant(n, "scales", OnnxTensor.Floats("", [4], [1f, 1f, up.Scale, up.Scale]))], [y],
                    ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"));
                break;
            case Concat:
                g.Add("Concat", n, x, [y], ("axis", 1L));
                break;
            case Add:
                g.Add("Add", n, x, [y]);
                break;
            case Dense d:
                string flat = x[0];
                if (n.Inputs[0].Shape.Rank != 2)
                    g.Add("Flatten", n, [x[0]], [flat = g.Temp(n, "flat")], ("axis", 1L));
                g.Add("Gemm", n, d.HasBias ? [flat, g.Parameter(n, 0), g.Parameter(n, 1)] : [flat, g.Parameter(n, 0)], [y], ("transB", 1L));
                break;
            default:
                throw new OnnxExportException($"{n.Name}: op '{n.Op.Type}' ({n.Op.GetType().Name}) has no ONNX mapping");
        }
    }

    private static void BatchNormalization(OnnxGraphBuilder g, Node n, string x, string y, double eps, double momentum) =>
        // ONNX's momentum weighs the running value (PyTorch's weighs the batch): 1 - momentum.
        g.Add("BatchNormalization", n, [x, g.Parameter(n, 0), g.Parameter(n, 1), g.State(n, 0), g.State(n, 1)], [y],
            ("epsilon", (float)eps), ("momentum", (float)(1 - momentum)));

    /// <summary>
    /// Opset 18's GroupNormalization scales per group, not per channel (changed in opset 21), so
    /// the export normalises each group as one instance of a [N, G, C/G*H*W] view, restores the
    /// shape, and applies the per-channel scale and shift.
    /// </summary>
    private static void GroupNormalization(OnnxGraphBuilder g, Node n, string x, string y, GroupNorm gn)
    {
        var shape = n.Inputs[0].Shape;
        long channels = shape[1];
        long[] perChannel = [channels, .. Enumerable.Repeat(1L, shape.Rank - 2)];
        string grouped = g.Temp(n, "grouped"), normalized = g.Temp(n, "normalized"), restored = g.Temp(n, "restored"),
            inputShape = g.Temp(n, "shape"), scaled = g.Temp(n, "scaled");
        g.Add("Reshape", n, [x, g.Constant(n, "group_shape", OnnxTensor.Int64s("", 0, gn.Groups, -1))], [grouped]);
        g.Add("InstanceNormalization", n, [grouped,
            g.Constant(n, "ones", OnnxTensor.Floats("", [gn.Groups], Enumerable.Repeat(1f, gn.Groups).ToArray())),
            g.Constant(n, "zeros", OnnxTensor.Floats("", [gn.Groups], new float[gn.Groups]))], [normalized], ("epsilon", (float)gn.Eps));
        g.Add("Shape", n, [x], [inputShape]);
        g.Add("Reshape", n, [normalized, inputShape], [restored]);
        g.Add("Mul", n, [restored, g.Parameter(n, 0, perChannel)], [scaled]);
        g.Add("Add", n, [scaled, g.Parameter(n, 1, perChannel)], [y]);
    }

    /// <summary>
    /// The engine's indices count within one (n, c) plane, ONNX's over the whole N x C x H x W
    /// tensor; both are consistent between the exported MaxPool and MaxUnpool as long as the
    /// unpooled plane is the pooled input's plane, which this checks.
    /// </summary>
    private static void MaxUnpool(OnnxGraphBuilder g, Node n, string[] x, string y, MaxUnpool u)
    {
        var indices = n.Inputs[1];
        if (indices.Producer is not { Op: MaxPool { WithIndices: true } pool } producer)
            throw new OnnxExportException($"{n.Name}: maxunpool's indices must come straight from a max pool with indices to be exported");
        var pooled = producer.Inputs[0].Shape;
        if (pooled[2] != u.OutHeight || pooled[3] != u.OutWidth)
            throw new OnnxExportException($"{n.Name}: unpools to {u.OutHeight}x{u.OutWidth} but {producer.Name} pooled {pooled[2]}x{pooled[3]}; " +
                "ONNX's indices count over the whole tensor, so the planes must match");
        string batchAndChannels = g.Temp(n, "batch_channels"), outputShape = g.Temp(n, "output_shape");
        g.Add("Shape", n, [x[0]], [batchAndChannels], ("start", 0L), ("end", 2L));
        g.Add("Concat", n, [batchAndChannels, g.Constant(n, "plane", OnnxTensor.Int64s("", u.OutHeight, u.OutWidth))], [outputShape], ("axis", 0L));
        g.Add("MaxUnpool", n, [x[0], x[1], outputShape], [y],
            ("kernel_shape", Pair(pool.Kernel)), ("strides", Pair(pool.Stride)), ("pads", Quad(pool.Padding)));
    }

    private static long[] Pair(int v) => [v, v];
    private static long[] Quad(int v) => [v, v, v, v];
}
