using Engine.Data.Transforms;

namespace Engine.Data.Datasets;

public enum VocMasks { SegmentationClass, SegmentationObject }

/// <summary>
/// Which images are "train" and "val": the lists in ImageSets/Segmentation (train.txt, val.txt),
/// the seed's split of the mask files by name order, or (Auto) the lists when both exist, else the seed's split.
/// </summary>
public enum VocSplit { Auto, Lists, Seed }

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
    /// <see cref="SeedTrainCount"/> for "train", the next <see cref="SeedValCount"/> for "val";
    /// a tree with fewer masks than both together is split 4:1 in the same order.
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
public sealed class VocSegmentationDataset : MaskedImageDataset
{
    public static readonly string[] VocClassNames =
    [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    private readonly string _root;
    private readonly string _maskDir;

    private VocSegmentationDataset(string root, string maskDir, string[] ids, string[] classes, int objectClasses, VocOptions options)
        : base($"voc:{root} ({(options.SeedSplit ? "seed split " : "")}{options.Split}, {options.Masks})", ids, classes,
            LabelTable(objectClasses, options.Boundary), options.Boundary == VocBoundary.AsClass ? -1 : 255, options.Recipe,
            $"neither a class (0..{objectClasses - 1}) nor the boundary 255")
    {
        _root = root;
        _maskDir = maskDir;
    }

    /// <summary>Values 0..objectClasses-1 are their classes; 255 is the boundary class or the ignore label.</summary>
    private static int[] LabelTable(int objectClasses, VocBoundary boundary)
    {
        var labelOf = NoLabels();
        for (int v = 0; v < objectClasses; v++) labelOf[v] = v;
        labelOf[255] = boundary == VocBoundary.AsClass ? objectClasses : 255;
        return labelOf;
    }

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

    protected override string ImagePath(string id) => Path.Combine(_root, "JPEGImages", id + ".jpg");
    protected override string MaskPath(string id) => Path.Combine(_maskDir, id + ".png");

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

    /// <summary>Whether <paramref name="split"/> means the seed's split for the tree at <paramref name="path"/>.</summary>
    public static bool UsesSeedSplit(string path, VocSplit split)
    {
        if (split != VocSplit.Auto) return split == VocSplit.Seed;
        string lists = Path.Combine(ResolveRoot(path), "ImageSets", "Segmentation");
        return !(File.Exists(Path.Combine(lists, "train.txt")) && File.Exists(Path.Combine(lists, "val.txt")));
    }

    private static string[] SeedSplitIds(string maskDir, VocOptions options)
    {
        var all = Directory.EnumerateFiles(maskDir, "*.png").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToArray();
        int train = options.SeedTrainCount, val = options.SeedValCount;
        if (all.Length < train + val) (train, val) = (Math.Max(1, all.Length * 4 / 5), all.Length - Math.Max(1, all.Length * 4 / 5));
        return options.Split switch
        {
            "train" => all.Take(train).ToArray(),
            "val" => all.Skip(train).Take(val).ToArray(),
            _ => throw new DatasetException($"the seed split has only 'train' and 'val', not '{options.Split}'"),
        };
    }
}
