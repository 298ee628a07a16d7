using System.Globalization;
using Engine.Data;
using Engine.Data.Datasets;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace Host;

/// <summary>A run's training and validation sets.</summary>
public sealed record DataSplits(IDataset Train, IDataset? Validation)
{
    public string Describe() => Validation is null ? Train.Name : $"{Train.Name}; validation {Validation.Name}";
}

/// <summary>
/// The data a run names, through the data pipeline's <see cref="DataSources"/>: the embedded
/// synthetic sets without --data (classification or segmentation per the net), an ImageNet-style
/// class-folder tree, or a PASCAL VOC tree.
/// </summary>
public static class DataChoice
{
    public static DataSplits Open(TrainSettings s, bool segmentation, Shape input)
    {
        int c = input[0], h = input[1], w = input[2];
        if (h != w && !(segmentation && s.Data is not null))
            throw new UsageException($"--input {input}: the data pipeline makes square images except for segmentation trees (VOC, ADE20K); give CxSxS");
        if (s.Data is { } dir && !Directory.Exists(dir)) throw new UsageException($"--data {dir}: no such folder");
        if (s.ValidationData is { } v && !Directory.Exists(v)) throw new UsageException($"--val-data {v}: no such folder");
        if (s.Data is null && (c != 3 || h < 8))
            throw new UsageException($"--input {input}: the embedded synthetic dataset makes square colour images, 3xSxS with S >= 8");
        var request = new DataRequest
        {
            Source = s.Data ?? (segmentation ? "synthetic-segmentation" : "synthetic"),
            Validation = s.ValidationData, ValidationFraction = s.ValidationFraction, ImageSize = h, ImageWidth = w, Channels = c,
            Recipe = RecipeName(s.Net), VggScale = ScaleOf(s, h), Flip = s.Flip, VocFlip = s.Flip ?? false, SyntheticTrainCount = Math.Max(1, s.SyntheticTrain), SyntheticValidationCount = Math.Max(1, s.SyntheticValidation),
            Seed = s.Seed, VocBoundary = s.BoundaryAsClass ? VocBoundary.AsClass : VocBoundary.Ignore,
            VocSplit = Enum.Parse<VocSplit>(s.VocSplit, ignoreCase: true), AdeOther = s.AdeOtherAsClass ? AdeOther.AsClass : AdeOther.Ignore,
            Normalization = s.Normalization(),
        };
        IDataset train, val;
        try { (train, val) = DataSources.Open(request); }
        catch (DatasetException e) { throw new UsageException($"--data {s.Data}: {e.Message}"); }
        if ((train.Task == TaskKind.Segmentation) != segmentation)
            throw new UsageException($"--data {s.Data}: {train.Name} is a {train.Task.ToString().ToLowerInvariant()} dataset, but {s.Net} is a {(segmentation ? "segmentation" : "classification")} net");
        return new DataSplits(SubsetDataset.Fraction(train, s.TrainFraction, s.Seed), val.Count > 0 ? val : null);
    }

    /// <summary>The augmentation recipe of a net's data: the seed's for vovnet, VGG's for vgg, a plain resize otherwise.</summary>
    public static string RecipeName(string net) => ImageRecipe.NameFor(net);

    /// <summary>The recipe whose evaluation view (no generator) prepares single images for prediction.</summary>
    public static ImageRecipe Recipe(TrainSettings s, int size) => ImageRecipe.ForName(RecipeName(s.Net), size, ScaleOf(s, size), s.Normalization(), s.Flip);

    private static (int Min, int Max)? ScaleOf(TrainSettings s, int size) => s.VggScale is { } v ? ParseScale(v, size) : null;

    /// <summary>--scale: "S" (fixed) or "MIN:MAX" (jitter), each at least the crop side <paramref name="size"/>.</summary>
    public static (int Min, int Max) ParseScale(string text, int size)
    {
        try { return VggRecipe.ParseScale(text, size); }
        catch (FormatException e) { throw new UsageException($"--scale {text}: {e.Message}"); }
    }
}
