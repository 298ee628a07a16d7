using System.CommandLine;
using Engine.Data.Transforms;

namespace Host;

/// <summary>
/// How `host eval` and `host predict` prepare images and name classes, each replacing what the
/// run stored: --scale (VGG's test scale Q), --normalize, --class-names FILE.
/// </summary>
public sealed class InferenceArguments
{
    public Option<string?> Scale { get; } = new("--scale")
    {
        Description = "VGG nets: the test scale Q, the shorter side each image is rescaled to before the centre crop (e.g. 256 at 224 input, torchvision's recipe). Default: the middle of the run's training scale.",
    };
    public Option<string?> Normalize { get; } = new("--normalize")
    {
        Description = "Input normalisation: imagenet (torchvision's mean/std), none (x/255) or MEAN/STD values in 0..1 units. Default: the run's (for weights outside a run: the net's recipe).",
    };
    public Option<string?> ClassNames { get; } = new("--class-names") { Description = "A text file with one class name per line, in class order (default: the run's class folders)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Scale);
        command.Options.Add(Normalize);
        command.Options.Add(ClassNames);
    }

    /// <summary>The settings with what the command line gives instead of the run's.</summary>
    public TrainSettings Apply(ParseResult r, TrainSettings s)
    {
        if (r.GetValue(Scale) is { } scale)
        {
            if (DataChoice.RecipeName(s.Net) != "vgg") throw new UsageException($"--scale {scale}: only the VGG nets' recipe has a test scale, not {s.Net}'s");
            int side = NetArguments.ParseInput(s.Input)!.Value[1];
            var (min, max) = DataChoice.ParseScale(scale, side);
            if (min != max) throw new UsageException($"--scale {scale}: give one test scale Q (a training range MIN:MAX is for host train)");
            s = s with { VggScale = scale };
        }
        if (CheckNormalize(r.GetValue(Normalize)) is { } normalize) s = s with { Normalize = normalize };
        if (r.GetValue(ClassNames) is { } file) s = s with { ClassNames = ReadClassNames(file, s.Classes) };
        return s;
    }

    /// <summary>A --normalize value checked (null stays null).</summary>
    public static string? CheckNormalize(string? text)
    {
        if (text is null) return null;
        try { return InputNormalization.Parse(text).Text; }
        catch (FormatException e) { throw new UsageException($"--normalize {e.Message}"); }
    }

    private static string[] ReadClassNames(string file, int classes)
    {
        if (!File.Exists(file)) throw new UsageException($"--class-names {file}: no such file");
        var names = File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        return names.Length == classes ? names
            : throw new UsageException($"--class-names {file}: {names.Length} name(s) for a net of {classes} classes (one name a line, in class order)");
    }
}
