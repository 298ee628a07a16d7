using Engine.Tensors;

namespace Engine.Graph;

public enum InitKind { Zeros, Ones, HeNormal, Glorot, Uniform }

/// <summary>How a parameter is initialised. FanIn/FanOut for He and Glorot; Bound for Uniform(-b, b).</summary>
public readonly record struct Init(InitKind Kind, int FanIn = 0, int FanOut = 0, double Bound = 0)
{
    public static Init Zeros => new(InitKind.Zeros);
    public static Init Ones => new(InitKind.Ones);
    public static Init He(int fanIn) => new(InitKind.HeNormal, fanIn);
    public static Init Glorot(int fanIn, int fanOut) => new(InitKind.Glorot, fanIn, fanOut);
}

/// <summary>A parameter an op declares: its name relative to the node, shape and initialiser.</summary>
public readonly record struct ParamSpec(string Name, Shape Shape, Init Init, bool WeightDecay = true);

/// <summary>A named view into one contiguous buffer.</summary>
public sealed record ParamView(string Name, Shape Shape, long Offset, Init Init, bool WeightDecay)
{
    public long Count => Shape.Numel;
}
