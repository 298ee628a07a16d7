using System.Numerics;
using System.Runtime.InteropServices;
using Engine.Ops.Cpu;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Mish: y = x * tanh(softplus(x)), in the stable form the kernels use too:
/// sp = x &gt; 20 ? x : log1p(exp(x)); dy/dx = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2).
/// Backward works from the saved input alone. Float runs <see cref="VectorMish"/> (one exp, SIMD);
/// double keeps these scalar formulas (the gradient checks' reference).
/// </summary>
public sealed partial class Mish : Op
{
    public override string Type => "mish";
    public override bool BackwardReadsInput(int input) => input == 0;
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => true;
    public override bool CanRecomputeOutput => true;
    public override void Recompute<T>(CpuNode<T> n) => Forward(n);
    public override Shape[] InferShapes(Shape[] inputs) => [inputs[0]];

    /// <summary>The output (and its gradient) may be a channel slice of a concatenation (OSA writes each layer there).</summary>
    public override bool WritesStridedOutput(int output) => true;

    public override void Forward<T>(CpuNode<T> n) => ForSamples(n, (xAt, yAt, count) =>
    {
        var x = n.In(0).Slice(xAt, count);
        var y = n.Out(0).Slice(yAt, count);
        if (typeof(T) == typeof(float)) VectorMish.Forward(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else for (int i = 0; i < count; i++) y[i] = x[i] * T.Tanh(Softplus(x[i]));
    });

    public override void Backward<T>(CpuNode<T> n)
    {
        if (!n.HasInGrad(0)) return;
        ForSamples(n, (xAt, yAt, count) =>
        {
            var x = n.In(0).Slice(xAt, count);
            var dy = n.OutGrad(0).Slice(yAt, count);
            var dx = n.InGrad(0).Slice(xAt, count);
            if (typeof(T) == typeof(float))
                VectorMish.Gradient(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(dy), MemoryMarshal.Cast<T, float>(dx), !n.OverwriteInGrad(0));
            else if (n.OverwriteInGrad(0)) for (int i = 0; i < count; i++) dx[i] = dy[i] * Derivative(x[i]);
            else for (int i = 0; i < count; i++) dx[i] += dy[i] * Derivative(x[i]);
        });
    }

    /// <summary>
    /// Runs body(x offset, y offset, count) over chunks of the input; when the output is strided
    /// (a slice of a concatenation) chunks stay within one sample, whose output starts a stride apart.
    /// </summary>
    private static void ForSamples<T>(CpuNode<T> n, Action<int, int, int> body) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int perSample = (int)(n.InShape(0).Numel / n.Batch);
        long stride = n.OutSampleStride(0);
        if (stride == perSample)
        {
            ForChunks(perSample * n.Batch, (start, end) => body(start, start, end - start));
            return;
        }
        ForChunks(perSample * n.Batch, (start, end) =>
        {
            for (int at = start; at < end;)
            {
                int sample = at / perSample, within = at % perSample;
                int count = Math.Min(end - at, perSample - within);
                body(at, checked((int)(sample * stride)) + within, count);
                at += count;
            }
        });
    }

    /// <summary>Runs body over [start, end) chunks of [0, count), in parallel when there are several (chunks large enough for the SIMD float path to pay for a task).</summary>
    private static void ForChunks(int count, Action<int, int> body)
    {
        const int chunk = 1 << 16;
        if (count <= chunk) { body(0, count); return; }
        WorkerTeam.Shared.For((count + chunk - 1) / chunk, c => body(c * chunk, Math.Min(count, (c + 1) * chunk)));
    }

    /// <summary>dy/dx at <paramref name="x"/>; finite for every finite x (sigmoid underflows to 0, never NaN).</summary>
    internal static T Derivative<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T t = T.Tanh(Softplus(x));
        T sigmoid = T.One / (T.One + T.Exp(-x));
        return t + x * sigmoid * (T.One - t * t);
    }

    /// <summary>softplus with the threshold at 20, beyond which log1p(exp(x)) equals x in float32.</summary>
    internal static T Softplus<T>(T x) where T : IFloatingPointIeee754<T> =>
        x > T.CreateTruncating(20) ? x : Log1p(T.Exp(x));

    /// <summary>
    /// log(1 + u) accurate for small u (.NET's LogP1 evaluates log(1 + u) directly and loses
    /// e^x for x below about -37): log(w) * u / (w - 1) with w = 1 + u cancels the rounding of w.
    /// </summary>
    internal static T Log1p<T>(T u) where T : IFloatingPointIeee754<T>
    {
        T w = T.One + u;
        if (w == T.One) return u;
        if (T.IsPositiveInfinity(w)) return w;
        return T.Log(w) * u / (w - T.One);
    }
}

public static partial class Layers
{
    public static Value Mish(this GraphBuilder b, Value x, string? name = null) => b.Add1(new Mish(), name ?? b.Unique("mish"), x);
}
