using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Fully connected layer on the input flattened to [N, in]: y = x * weight^T + bias, with
/// weight [out, in] (PyTorch Linear layout, Glorot init) and bias [out] (zeros).
/// </summary>
public sealed partial class Dense : Op
{
    public Dense(int outFeatures, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        OutFeatures = outFeatures;
        HasBias = bias;
    }

    public int OutFeatures { get; }
    public bool HasBias { get; }

    public override string Type => "dense";
    public override bool BackwardReadsInput(int input) => input == 0;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override bool ParameterIsProductOperand(int param) => param == 0;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        if (inputs.Length != 1) throw Bad($"takes one input, got {inputs.Length}");
        if (inputs[0].Rank < 2) throw Bad($"needs a batch dimension and at least one feature dimension, got rank {inputs[0].Rank}");
        if (InFeatures(inputs[0]) > int.MaxValue) throw Bad($"{InFeatures(inputs[0])} input features are too many");
        return [new Shape(inputs[0][0], OutFeatures)];
    }

    private static long InFeatures(Shape x) => x.Numel / x[0];

    public override ParamSpec[] Parameters(Shape[] inputs)
    {
        int inFeatures = (int)InFeatures(inputs[0]);
        var weight = new ParamSpec("weight", new Shape(OutFeatures, inFeatures), Init.Glorot(inFeatures, OutFeatures));
        return HasBias ? [weight, new ParamSpec("bias", new Shape(OutFeatures), Init.Zeros)] : [weight];
    }

    public override long MultiplyAccumulates(Shape[] inputs, Shape[] outputs) => inputs[0].Numel * OutFeatures;

    public override (string Filters, string Size) Describe() => (OutFeatures.ToString(), "");

    public override unsafe void Forward<T>(CpuNode<T> n)
    {
        int batch = n.Batch, inFeatures = (int)InFeatures(n.InShape(0));
        var y = n.Out(0);
        if (HasBias) for (int i = 0; i < batch; i++) n.Param(1).CopyTo(y.Slice(i * OutFeatures, OutFeatures));
        else y.Clear();
        // x and weight both lie along the input features: dot products need no transposing copy of the weight.
        fixed (T* px = n.In(0), pw = ProductWeight(n), py = y)
            GemmNT<T>.Run(batch, OutFeatures, inFeatures, new MatrixOperand<T>(px, inFeatures), new MatrixOperand<T>(pw, inFeatures),
                py, OutFeatures, parallel: true);
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        int batch = n.Batch, inFeatures = (int)InFeatures(n.InShape(0));
        var dy = n.OutGrad(0);
        if (n.HasInGrad(0))
            Gemm.Multiply<T>(false, false, batch, inFeatures, OutFeatures, dy, ProductWeight(n), n.InGrad(0), accumulate: !n.OverwriteInGrad(0), parallel: true);
        Gemm.Multiply<T>(true, false, OutFeatures, inFeatures, batch, dy, n.In(0), ProductWeightGradient(n), accumulate: true, parallel: true);
        AddPermutedGradient(n);
        if (!HasBias) return;
        var biasGrad = n.ParamGrad(1);
        for (int i = 0; i < batch; i++) SpanMath.AddTo<T>(dy.Slice(i * OutFeatures, OutFeatures), biasGrad);
    }
}

public static partial class Layers
{
    /// <summary>Fully connected layer on all but the batch dimension: [N, ...] -> [N, outFeatures].</summary>
    public static Value Dense(this GraphBuilder b, Value x, int outFeatures, bool bias = true, string? name = null)
        => b.Add1(new Dense(outFeatures, bias), name ?? b.Unique("dense"), x);
}
