using System.Globalization;

namespace Engine.Data.Transforms;

/// <summary>
/// torchvision's input normalisation, (x/255 - mean) / std per channel with mean and std in 0..1
/// units, replacing a recipe's own (VGG's 0..255 minus the mean RGB, the others' x/255).
/// Written as "imagenet" (torchvision's ImageNet mean and std), "none" (x/255) or
/// "M1,M2,M3/S1,S2,S3" (one value each applies to every channel).
/// </summary>
public sealed record InputNormalization
{
    private InputNormalization(string text, float[] mean, float[] std) { Text = text; Mean = mean; Std = std; }

    /// <summary>The form it was given in, stored in a run.</summary>
    public string Text { get; }
    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }

    public static InputNormalization ImageNet { get; } = new("imagenet", [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
    public static InputNormalization None { get; } = new("none", [0f], [1f]);

    /// <exception cref="FormatException">The text is none of the three forms; the message says what was wrong.</exception>
    public static InputNormalization Parse(string text)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "imagenet": return ImageNet;
            case "none": return None;
        }
        var parts = text.Split('/');
        if (parts.Length != 2) throw new FormatException($"'{text}': expected imagenet, none or MEAN/STD values, e.g. 0.485,0.456,0.406/0.229,0.224,0.225");
        var mean = Values(parts[0], text, "mean");
        var std = Values(parts[1], text, "std");
        if (std.Any(s => !(s > 0))) throw new FormatException($"'{text}': every std must be positive");
        return new InputNormalization(text, mean, std);
    }

    private static float[] Values(string part, string text, string what)
    {
        var values = part.Split(',');
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
            if (!float.TryParse(values[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]) || !float.IsFinite(result[i]))
                throw new FormatException($"'{text}': {what} value '{values[i]}' is not a number");
        return result.Length is 1 or 3 ? result : throw new FormatException($"'{text}': give one {what} value or three (R,G,B), not {result.Length}");
    }

    /// <summary>Normalises a CHW image in 0..255 in place; a grey image takes the channel average.</summary>
    public void Apply(Span<float> chw, int channels)
    {
        int plane = chw.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            float mean = Pick(Mean, c, channels), std = Pick(Std, c, channels);
            foreach (ref var v in chw.Slice(c * plane, plane)) v = (v / 255f - mean) / std;
        }
    }

    private static float Pick(IReadOnlyList<float> values, int c, int channels) =>
        values.Count == 1 ? values[0] : channels == 1 ? values.Average() : c < values.Count ? values[c]
            : throw new ArgumentException($"input normalisation '{values.Count}' values do not cover {channels} channels");

    public override string ToString() => Text;
}
