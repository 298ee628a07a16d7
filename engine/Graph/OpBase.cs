using System.Numerics;
using Engine.Tensors;

namespace Engine.Graph;

/// <summary>
/// What the graph, the memory planner and the CPU backend see of a layer type: its shape rule,
/// parameters, planner declarations and CPU reference forward and backward (generic over float
/// and double). Concrete ops derive from <c>Engine.Ops.Op</c>, which adds the GPU path
/// (<c>Engine.Cuda.ICudaOp</c>), so Graph depends on neither Ops nor Cuda.
/// Backward ACCUMULATES into input and parameter gradients (+=).
/// </summary>
public abstract class OpBase
{
    /// <summary>Short type name shown in layer tables, e.g. "conv", "maxpool".</summary>
    public abstract string Type { get; }

    /// <summary>Output shapes (batch included) for the given input shapes; throws <see cref="ShapeException"/> for inputs the op cannot take.</summary>
    public abstract Shape[] InferShapes(Shape[] inputs);

    /// <summary>Element type of each output: I32 for argmax indices; F32 (the executor's float type) otherwise.</summary>
    public virtual DataType OutputType(int output) => DataType.F32;

    /// <summary>Expected element type of each input: I32 for labels and indices, F32 (float data) otherwise.</summary>
    public virtual DataType InputType(int input) => DataType.F32;

    /// <summary>Trainable parameters, named relative to the node ("weight", "bias").</summary>
    public virtual ParamSpec[] Parameters(Shape[] inputs) => [];

    /// <summary>Non-trainable state saved in checkpoints (BN running statistics).</summary>
    public virtual ParamSpec[] States(Shape[] inputs) => [];

    /// <summary>
    /// Whether output <paramref name="output"/> stays float32 in a bf16 run (a loss); other float
    /// outputs are stored in bf16 (engine/Graph/PRECISION.md).
    /// </summary>
    public virtual bool KeepsOutputInFp32(int output) => false;

    /// <summary>
    /// Whether parameter <paramref name="param"/> is an operand of a convolution or GEMM, which a bf16
    /// run feeds a bf16 copy of (the fp32 master stays as it is); biases and normalisation parameters are not.
    /// </summary>
    public virtual bool ParameterIsProductOperand(int param) => false;

    /// <summary>Multiply-accumulates per forward pass at the given shapes (for `host info`).</summary>
    public virtual long MultiplyAccumulates(Shape[] inputs, Shape[] outputs) => 0;

    /// <summary>Filter count and kernel description for the layer table ("64", "3x3/2").</summary>
    public virtual (string Filters, string Size) Describe() => ("", "");

    /// <summary>
    /// Whether backward reads input <paramref name="input"/>'s forward value. The memory planner keeps
    /// a value alive into backward only for the nodes that declare it; the default (true) is safe.
    /// </summary>
    public virtual bool BackwardReadsInput(int input) => true;

    /// <summary>Whether backward reads output <paramref name="output"/>'s forward value (ReLU from its output, pooling's argmax).</summary>
    public virtual bool BackwardReadsOutput(int output) => true;

    /// <summary>
    /// The input that output <paramref name="output"/> may overwrite (same size, elementwise, each
    /// element read before it is written at the same index), or null. The planner then gives the
    /// output the input's storage when nothing reads the input after this node.
    /// </summary>
    public virtual int? InPlaceInput(int output) => null;

    /// <summary>
    /// Whether the op writes output <paramref name="output"/> (and reads its gradient) through a sample
    /// stride larger than one sample (<see cref="CpuNode{T}.OutSampleStride"/>): a channel slice of a
    /// concatenation, so the concatenation needs no copy.
    /// </summary>
    public virtual bool WritesStridedOutput(int output) => false;

    /// <summary>Whether the op reads input <paramref name="input"/> (and writes its gradient) through a sample stride (<see cref="CpuNode{T}.InSampleStride"/>).</summary>
    public virtual bool ReadsStridedInput(int input) => false;

    /// <summary>
    /// Whether the inputs may be placed in output 0 as its consecutive channel slices (a
    /// concatenation): the planner then makes each such input a view, and the op skips it
    /// (<see cref="CpuNode{T}.InputIsViewOfOutput"/>).
    /// </summary>
    public virtual bool InputsMayAliasOutput => false;

    /// <summary>
    /// Whether backward can write every element of input <paramref name="input"/>'s gradient with `=`
    /// when the executor asks (<see cref="CpuNode{T}.OverwriteInGrad"/>: the first writer of that
    /// gradient in a backward pass), so the gradient needs no zeroing first. The default accumulates
    /// only, and the executor zeroes the gradient before its first writer.
    /// </summary>
    public virtual bool OverwritesInputGradient(int input) => false;

    /// <summary>
    /// Whether the op's (single) output can be written again in backward from its inputs, its
    /// parameters and what its forward saved, with no side effect (running statistics are not
    /// updated again). The planner then frees the output after its last forward reader and
    /// recomputes it (<see cref="Recompute{T}"/>) just before the first backward that reads it,
    /// into storage that lives only through those backward passes. Only for ops whose backward
    /// reads every input and not the output, so the inputs are alive then anyway.
    /// </summary>
    public virtual bool CanRecomputeOutput => false;

    /// <summary>
    /// Storage the op keeps from its forward to its backward besides its outputs (max pooling's
    /// argmax when it has no indices output): element count and type at these shapes, or null.
    /// The planner places it in the arena, alive from the node's forward through its backward
    /// (through its forward alone without training); the op reaches it as the node's saved scratch.
    /// </summary>
    public virtual (long Count, DataType Type)? SavedScratch(Shape[] inputs, Shape[] outputs) => null;

    /// <summary>Writes the output again exactly as the last forward did (<see cref="CanRecomputeOutput"/>).</summary>
    public virtual void Recompute<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new NotSupportedException($"{n.Node.Name}: {Type} cannot recompute its output");

    public abstract void Forward<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>;
    public abstract void Backward<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>The input shapes do not fit the op; the message says which and why.</summary>
public sealed class ShapeException(string message) : Exception(message);
