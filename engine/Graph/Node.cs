namespace Engine.Graph;

/// <summary>One application of an op to values, with its named parameter and state views.</summary>
public sealed class Node
{
    internal Node(int index, string name, OpBase op, Value[] inputs)
    {
        Index = index; Name = name; Op = op; Inputs = inputs;
    }

    public int Index { get; }
    public string Name { get; }
    public OpBase Op { get; }
    public Value[] Inputs { get; }
    public Value[] Outputs { get; internal set; } = [];
    public ParamView[] Params { get; internal set; } = [];
    public ParamView[] States { get; internal set; } = [];

    public override string ToString() => $"{Name} [{Op.Type}]";
}
