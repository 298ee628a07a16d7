using Engine.Data;

namespace Engine.Training;

/// <summary>What the net predicts: per image or per pixel, how many classes, and which label is ignored.</summary>
public sealed record TaskInfo(TaskKind Task, int Classes, int IgnoreLabel = -1, IReadOnlyList<string>? ClassNames = null)
{
    public static TaskInfo Of(IDataset data) => new(data.Task, data.Classes, data.IgnoreLabel, data.ClassNames);
    public string ClassName(int c) => ClassNames is { } n && c >= 0 && c < n.Count ? n[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
