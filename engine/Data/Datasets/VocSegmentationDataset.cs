using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Data.Datasets;

public enum VocMasks { SegmentationClass, SegmentationObject }

/// <summary>What the VOC boundary value 255 becomes: ignored by the loss (usual) or a class of its own (the SegNet seed's 22 classes).</summary>
public enum VocBoundary { Ignore, AsClass }

public sealed record VocOptions
{
    /// <summary>"train", "val", "trainval" (a list in ImageSets/Segmentation).</summary>
    public string Split { get; init; } = "train";
    public VocMasks Masks { get; init; } = VocMasks.SegmentationClass;
    public VocBoundary Boundary { get; init; } = VocBoundary.Ignore;
    /// <summary>
    /// The seed's split instead of the list files: the mask files in name order, the first
    /// <see cref="SeedTrainCount"/> for "train", the next <see cref="SeedValCount"/> for "val".
    /// </summary>
    public bool SeedSplit { get; init; }
    public int SeedTrainCount { get; init; } = 2000;
    public int SeedValCount { get; init; } = 500;
    public ImageRecipe Recipe { get; init; } = new ResizeRecipe(64, 64);
}

/// <summary>
/// PASCAL VOC 2012 segmentation: VOCdevkit/VOC2012/{JPEGImages, SegmentationClass or
/// SegmentationObject, ImageSets/Segmentation/*.txt}. Masks are palette PNGs whose indices are
/// the labels (0 background, 1..20 objects, 255 boundary). A classes.txt beside JPEGImages (one
/// name per line, ours, written by tools/datasets) replaces the 21 VOC class names. With
/// SegmentationObject the values are instance numbers, which the seed used as labels.
/// </summary>
public sealed class VocSegmentationDataset : IDataset
{
    public static readonly string[] VocClassNames =
    [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    private readonly string _root;
    private readonly string _maskDir;
    private readonly string[] _ids;
    private readonly string[] _classes;
    private readonly int[] _labelOf = new int[256];   // mask value -> label; -2 = invalid
    private readonly ImageRecipe _recipe;
    private readonly int _objectClasses;

    private VocSegmentationDataset(string root, string maskDir, string[] ids, string[] classes, int objectClasses, VocOptions options)
    {
        _root = root;
        _maskDir = maskDir;
        _ids = ids;
        _classes = classes;
        _recipe = options.Recipe;
        _objectClasses = objectClasses;
        Array.Fill(_labelOf, -2);
        for (int v = 0; v < objectClasses; v++) _labelOf[v] = v;
        _labelOf[255] = options.Boundary == VocBoundary.AsClass ? objectClasses : 255;
        IgnoreLabel = options.Boundary == VocBoundary.AsClass ? -1 : 255;
        Name = $"voc:{root} ({(options.SeedSplit ? "seed split " : "")}{options.Split}, {options.Masks})";
    }

    public string Name { get; }
    public TaskKind Task => TaskKind.Segmentation;
    public int Count => _ids.Length;
    public int Classes => _classes.Length;
    public IReadOnlyList<string> ClassNames => _classes;
    public Shape SampleShape => new(3, _recipe.Height, _recipe.Width);
    public int IgnoreLabel { get; }
    public string Describe(int index) => ImagePath(index);
    public IReadOnlyList<string> Ids => _ids;

    /// <summary>Opens a VOC tree given VOCdevkit/VOC2012, VOCdevkit, or the folder holding VOCdevkit.</summary>
    public static VocSegmentationDataset Open(string path, VocOptions? options = null)
    {
        options ??= new VocOptions();
        string root = ResolveRoot(path);
        string maskDir = Path.Combine(root, options.Masks.ToString());
        if (!Directory.Exists(maskDir)) throw new DatasetException($"VOC tree {root} has no {options.Masks} folder");
        string[] ids = options.SeedSplit ? SeedSplitIds(maskDir, options) : ListIds(root, options.Split);
        if (ids.Length == 0) throw new DatasetException($"VOC tree {root}: the {options.Split} split is empty");
        string classesFile = Path.Combine(root, "classes.txt");
        string[] objectClasses = File.Exists(classesFile)
            ? File.ReadAllLines(classesFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray()
            : VocClassNames;
        if (objectClasses.Length is 0 or > 255) throw new DatasetException($"{classesFile}: expected 1 to 255 class names, found {objectClasses.Length}");
        string[] classes = options.Boundary == VocBoundary.AsClass ? [.. objectClasses, "boundary"] : objectClasses;
        return new VocSegmentationDataset(root, maskDir, ids, classes, objectClasses.Length, options);
    }

    public Sample Load(int index, Rng rng, bool augment)
    {
        var image = new float[SampleShape.Numel];
        var mask = new int[_recipe.Height * _recipe.Width];
        LoadInto(index, rng, augment, image, mask);
        return new Sample(image, -1, mask);
    }

    public int LoadInto(int index, Rng rng, bool augment, Span<float> image, Span<int> mask)
    {
        string maskPath = MaskPath(index);
        var labels = SampleFiles.DecodeMask(maskPath);
        foreach (var v in labels.Indices)
            if (_labelOf[v] == -2)
                throw new BadSampleException(maskPath, $"mask value {v} is neither a class (0..{_objectClasses - 1}) nor the boundary 255");
        string imagePath = ImagePath(index);
        var decoded = SampleFiles.DecodeImage(imagePath, 3, _recipe.DecodeHint);
        try
        {
            if (decoded.SourceWidth != labels.Width || decoded.SourceHeight != labels.Height)
                throw new BadSampleException(imagePath,
                    $"image is {decoded.SourceWidth}x{decoded.SourceHeight} but its mask {maskPath} is {labels.Width}x{labels.Height}");
            _recipe.Render(decoded, labels, _labelOf, augment ? rng : null, image, mask);
        }
        finally { SampleFiles.Release(decoded); }
        return -1;
    }

    private string ImagePath(int index) => Path.Combine(_root, "JPEGImages", _ids[index] + ".jpg");
    private string MaskPath(int index) => Path.Combine(_maskDir, _ids[index] + ".png");

    private static string ResolveRoot(string path)
    {
        foreach (var candidate in new[] { path, Path.Combine(path, "VOC2012"), Path.Combine(path, "VOCdevkit", "VOC2012") })
            if (Directory.Exists(Path.Combine(candidate, "JPEGImages"))) return candidate;
        throw new DatasetException($"{path} is not a VOC tree: no JPEGImages folder in it, in {path}/VOC2012 or in {path}/VOCdevkit/VOC2012");
    }

    private static string[] ListIds(string root, string split)
    {
        string list = Path.Combine(root, "ImageSets", "Segmentation", split + ".txt");
        if (!File.Exists(list)) throw new DatasetException($"VOC split list {list} does not exist");
        return File.ReadAllLines(list).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
    }

    private static string[] SeedSplitIds(string maskDir, VocOptions options)
    {
        var all = Directory.EnumerateFiles(maskDir, "*.png").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToArray();
        return options.Split switch
        {
            "train" => all.Take(options.SeedTrainCount).ToArray(),
            "val" => all.Skip(options.SeedTrainCount).Take(options.SeedValCount).ToArray(),
            _ => throw new DatasetException($"the seed split has only 'train' and 'val', not '{options.Split}'"),
        };
    }
}
