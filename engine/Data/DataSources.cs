using Engine.Data.Datasets;
using Engine.Data.Transforms;

namespace Engine.Data;

/// <summary>What to train on, as a command line would give it.</summary>
public sealed record DataRequest
{
    /// <summary>
    /// "synthetic" (shapes classification, the embedded default), "synthetic-segmentation", an
    /// ADE20K tree (ADEChallengeData2016, or a folder with images/ and annotations/), a VOC tree
    /// (a folder with JPEGImages, VOC2012 or VOCdevkit/VOC2012 in it) or an image folder
    /// (root/&lt;class&gt;/&lt;images&gt;; with train/ and val/ or test/ sub-folders those are used).
    /// </summary>
    public string Source { get; init; } = "synthetic";
    /// <summary>A separate validation image folder; without one a split of the source is used.</summary>
    public string? Validation { get; init; }
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Output side; 0 picks 32 for synthetic, 64 for segmentation sets and 224 for image folders (give 28 for MNIST).</summary>
    public int ImageSize { get; init; }
    /// <summary>Output width of segmentation trees (VOC, ADE20K) when it differs from the height <see cref="ImageSize"/>; 0: square.</summary>
    public int ImageWidth { get; init; }
    /// <summary>Training augmentation for image folders: "vovnet", "vgg" or "resize".</summary>
    public string Recipe { get; init; } = "vovnet";
    /// <summary>The "vgg" recipe's training scale range (null: <see cref="VggRecipe.DefaultScale"/> of the image size).</summary>
    public (int Min, int Max)? VggScale { get; init; }
    /// <summary>Image folders: random mirroring in training; null for the recipe's own (<see cref="ImageRecipe.ForName"/>).</summary>
    public bool? Flip { get; init; }
    public int Channels { get; init; } = 3;
    /// <summary>Image folders: replaces the recipe's input normalisation (null keeps it).</summary>
    public Transforms.InputNormalization? Normalization { get; init; }
    public int SyntheticTrainCount { get; init; } = 10_000;
    public int SyntheticValidationCount { get; init; } = 1_000;
    public ulong Seed { get; init; } = 1;
    public VocBoundary VocBoundary { get; init; } = VocBoundary.Ignore;
    public VocMasks VocMasks { get; init; } = VocMasks.SegmentationClass;
    public VocSplit VocSplit { get; init; } = VocSplit.Auto;
    public AdeOther AdeOther { get; init; } = AdeOther.AsClass;
    /// <summary>Random left-right mirroring of VOC training images and masks (the seed had none).</summary>
    public bool VocFlip { get; init; }
}

/// <summary>Opens the training and validation datasets a <see cref="DataRequest"/> names.</summary>
public static class DataSources
{
    public static (IDataset Train, IDataset Validation) Open(DataRequest request)
    {
        switch (request.Source.ToLowerInvariant())
        {
            case "synthetic":
                return SyntheticShapesDataset.Split(request.SyntheticTrainCount, request.SyntheticValidationCount, Size(request, 32), request.Seed);
            case "synthetic-segmentation":
                return SyntheticSegmentationDataset.Split(request.SyntheticTrainCount, request.SyntheticValidationCount, Size(request, 64), request.Seed);
        }
        string path = request.Source;
        if (!Directory.Exists(path)) throw new DatasetException($"data source '{path}' is neither a folder nor one of synthetic, synthetic-segmentation");
        if (AdeSegmentationDataset.IsTree(path))
        {
            var (height, width) = request.ImageSize > 0 ? (request.ImageSize, Width(request)) : (320, 480);
            var options = new AdeOptions { Other = request.AdeOther, Recipe = new ResizeRecipe(height, width, flip: request.VocFlip) };
            return (AdeSegmentationDataset.Open(path, options with { Split = "training" }),
                    AdeSegmentationDataset.Open(path, options with { Split = "validation", Recipe = new ResizeRecipe(height, width) }));
        }
        if (IsVoc(path))
        {
            int size = Size(request, 64), width = request.ImageWidth > 0 ? request.ImageWidth : size;
            var options = new VocOptions
            {
                Masks = request.VocMasks, Boundary = request.VocBoundary, SeedSplit = VocSegmentationDataset.UsesSeedSplit(path, request.VocSplit),
                Recipe = new ResizeRecipe(size, width, flip: request.VocFlip),
            };
            return (VocSegmentationDataset.Open(path, options with { Split = "train" }),
                    VocSegmentationDataset.Open(path, options with { Split = "val", Recipe = new ResizeRecipe(size, width) }));
        }
        if (request.ImageWidth > 0 && request.ImageWidth != request.ImageSize)
            throw new DatasetException($"{path} is an image folder, whose recipes make square images; give a square input");
        int side = Size(request, 224);
        var recipe = ImageRecipe.ForName(request.Recipe, side, request.VggScale, request.Normalization, request.Flip);   // its evaluation view (no generator) serves validation
        string? validation = request.Validation;
        string trainRoot = path;
        if (validation is null && Directory.Exists(Path.Combine(path, "train")))
        {
            trainRoot = Path.Combine(path, "train");
            validation = new[] { "val", "validation", "test" }.Select(v => Path.Combine(path, v)).FirstOrDefault(Directory.Exists);
        }
        var (t, v) = ImageFolderDataset.Open(trainRoot, validation, request.ValidationFraction, recipe, recipe, request.Channels, request.Seed);
        return (t, v);
    }

    private static bool IsVoc(string path)
        => new[] { path, Path.Combine(path, "VOC2012"), Path.Combine(path, "VOCdevkit", "VOC2012") }
            .Any(p => Directory.Exists(Path.Combine(p, "JPEGImages")));

    private static int Size(DataRequest request, int natural) => request.ImageSize > 0 ? request.ImageSize : natural;
    private static int Width(DataRequest request) => request.ImageWidth > 0 ? request.ImageWidth : request.ImageSize;
}
