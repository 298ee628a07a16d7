using Engine.Data;
using Engine.Ops;

namespace Host;

/// <summary>
/// `host eval` on data whose label convention differs from the run's: a different ignore label is
/// adapted to (it only decides which pixels the loss and metrics skip); a different class count or
/// a label outside the run's classes is one error line naming the data, the run and the flag to use.
/// </summary>
internal static class LabelConvention
{
    public static TrainSettings WithBoundary(TrainSettings s, string? boundary) => boundary?.ToLowerInvariant() switch
    {
        null => s,
        "class" => s with { BoundaryAsClass = true },
        "ignore" => s with { BoundaryAsClass = false },
        _ => throw new UsageException($"--boundary '{boundary}': expected class or ignore"),
    };

    public static void CheckClasses(IDataset data, TrainSettings s, string weights, string? dataArg)
    {
        if (data.Classes == s.Classes) return;
        string hint = data.Task != TaskKind.Segmentation ? "evaluate it with weights trained on its classes"
            : data.Classes + 1 == s.Classes ? "for VOC data, --boundary class makes the boundary 255 a class of its own"
            : data.Classes == s.Classes + 1 ? "for VOC data, --boundary ignore ignores the boundary 255 instead of making it a class"
            : "evaluate it with weights trained on its classes";
        throw new UsageException($"{Prefix(dataArg)}{data.Name} has {data.Classes} classes (ignore label {data.IgnoreLabel}), " +
            $"but the run {weights} was trained with {s.Classes} (ignore label {s.IgnoreLabel}); {hint}");
    }

    public static string? AdaptNote(IDataset data, TrainSettings s, string weights)
        => data.Task == TaskKind.Segmentation && data.IgnoreLabel != s.IgnoreLabel
            ? $"note: {data.Name} marks ignored pixels with {Describe(data.IgnoreLabel)}, the run {weights} was trained with {Describe(s.IgnoreLabel)}; evaluating with the data's"
            : null;

    public static UsageException OutOfRange(LabelOutOfRangeException e, IDataset data, TrainSettings s, string weights, string? dataArg)
        => new($"{Prefix(dataArg)}{e.Message}; the run {weights} has {s.Classes} classes and its data {data.Name} ignore label {data.IgnoreLabel}");

    private static string Prefix(string? dataArg) => dataArg is null ? "" : $"--data {dataArg}: ";

    private static string Describe(int ignore) => ignore < 0 ? "no ignore label" : $"label {ignore}";
}
