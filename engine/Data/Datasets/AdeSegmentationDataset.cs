using Engine.Data.Transforms;

namespace Engine.Data.Datasets;

/// <summary>What ADE20K's label 0 ("other": pixels of none of the 150 classes) becomes.</summary>
public enum AdeOther
{
    /// <summary>A class of its own, label 0 (the seed's 150 classes + background = 151).</summary>
    AsClass,
    /// <summary>Ignored by the loss and the metrics; the 150 classes become labels 0..149 (the benchmark's convention).</summary>
    Ignore,
}

public sealed record AdeOptions
{
    /// <summary>"training" or "validation" (the sub-folders of images/ and annotations/).</summary>
    public string Split { get; init; } = "training";
    public AdeOther Other { get; init; } = AdeOther.AsClass;
    /// <summary>The seed's input: 480 wide, 320 high.</summary>
    public ImageRecipe Recipe { get; init; } = new ResizeRecipe(320, 480);
}

/// <summary>
/// ADE20K's scene-parsing release, ADEChallengeData2016/{images,annotations}/{training,validation}:
/// JPEG images and 8-bit grayscale PNG masks of the same name, value 0 = other, 1..150 the classes.
/// Class names from objectInfo150.csv (or .txt) in the root when present (its last column, the
/// first of the synonyms), else "class 1".."class 150".
/// </summary>
public sealed class AdeSegmentationDataset : MaskedImageDataset
{
    public const int ClassCount = 150;

    private readonly string _root;
    private readonly string _split;

    private AdeSegmentationDataset(string root, string[] ids, string[] objectNames, AdeOptions options)
        : base($"ade20k:{root} ({options.Split}, label 0 {(options.Other == AdeOther.Ignore ? "ignored" : "a class")})", ids,
            options.Other == AdeOther.Ignore ? objectNames : ["other", .. objectNames], LabelTable(options.Other),
            options.Other == AdeOther.Ignore ? 255 : -1, options.Recipe, $"not an ADE20K label (0 other, 1..{ClassCount})")
    {
        _root = root;
        _split = options.Split;
    }

    /// <summary>1..150 are the classes (0..149 when "other" is ignored); 0 is "other", a class or the ignore label.</summary>
    private static int[] LabelTable(AdeOther other)
    {
        var labelOf = NoLabels();
        bool ignoreOther = other == AdeOther.Ignore;
        for (int v = 1; v <= ClassCount; v++) labelOf[v] = ignoreOther ? v - 1 : v;
        labelOf[0] = ignoreOther ? 255 : 0;
        return labelOf;
    }

    /// <summary>Whether <paramref name="path"/> is (or holds) an ADEChallengeData2016 tree.</summary>
    public static bool IsTree(string path) => FindRoot(path) is not null;

    /// <summary>Opens the tree at ADEChallengeData2016 or the folder holding it.</summary>
    public static AdeSegmentationDataset Open(string path, AdeOptions? options = null)
    {
        options ??= new AdeOptions();
        string root = FindRoot(path) ?? throw new DatasetException($"{path} is not an ADE20K tree: no images/ and annotations/ folders in it or in {path}/ADEChallengeData2016");
        string maskDir = Path.Combine(root, "annotations", options.Split);
        if (!Directory.Exists(maskDir)) throw new DatasetException($"ADE20K tree {root} has no annotations/{options.Split} folder");
        var ids = Directory.EnumerateFiles(maskDir, "*.png").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToArray();
        if (ids.Length == 0) throw new DatasetException($"ADE20K tree {root}: annotations/{options.Split} holds no .png masks");
        var missing = ids.Where(id => !File.Exists(Path.Combine(root, "images", options.Split, id + ".jpg"))).ToArray();
        if (missing.Length > 0)
            throw new DatasetException($"ADE20K tree {root}: {missing.Length} mask(s) in annotations/{options.Split} have no image in images/{options.Split}, e.g. {missing[0]}.jpg");
        return new AdeSegmentationDataset(root, ids, ClassNamesOf(root), options);
    }

    protected override string ImagePath(string id) => Path.Combine(_root, "images", _split, id + ".jpg");
    protected override string MaskPath(string id) => Path.Combine(_root, "annotations", _split, id + ".png");

    private static string? FindRoot(string path) =>
        new[] { path, Path.Combine(path, "ADEChallengeData2016") }
            .FirstOrDefault(p => Directory.Exists(Path.Combine(p, "images")) && Directory.Exists(Path.Combine(p, "annotations")));

    private static string[] ClassNamesOf(string root)
    {
        var file = new[] { "objectInfo150.csv", "objectInfo150.txt" }.Select(f => Path.Combine(root, f)).FirstOrDefault(File.Exists);
        if (file is null) return Enumerable.Range(1, ClassCount).Select(i => $"class {i}").ToArray();
        var names = File.ReadAllLines(file)
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("Idx", StringComparison.OrdinalIgnoreCase))
            .Select(l => l.Split(',', '\t')[^1].Trim().Trim('"').Split(';')[0].Trim())
            .ToArray();
        if (names.Length != ClassCount) throw new DatasetException($"{file}: expected {ClassCount} class lines, found {names.Length}");
        return names;
    }
}
