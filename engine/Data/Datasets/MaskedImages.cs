using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Data.Datasets;

/// <summary>An image and its label mask (a palette or 8-bit grayscale PNG of the same size), rendered together through a recipe.</summary>
internal static class MaskedImages
{
    /// <summary>A segmentation dataset's sample in arrays of its own (through its LoadInto).</summary>
    public static Sample Load(IDataset dataset, int index, Rng rng, bool augment)
    {
        var shape = dataset.SampleShape;
        var image = new float[shape.Numel];
        var mask = new int[shape[1] * shape[2]];
        dataset.LoadInto(index, rng, augment, image, mask);
        return new Sample(image, -1, mask);
    }

    /// <param name="labelOf">Mask value -> label; -2 marks a value no class has (the file is skipped, naming it).</param>
    /// <param name="whatInvalidIs">How the message describes an invalid value, after "mask value V is".</param>
    public static void Render(string imagePath, string maskPath, int[] labelOf, string whatInvalidIs, ImageRecipe recipe, Rng? rng,
        Span<float> image, Span<int> mask)
    {
        var labels = SampleFiles.DecodeMask(maskPath);
        foreach (var v in labels.Indices)
            if (labelOf[v] == -2) throw new BadSampleException(maskPath, $"mask value {v} is {whatInvalidIs}");
        var decoded = SampleFiles.DecodeImage(imagePath, 3, recipe.DecodeHint);
        try
        {
            if (decoded.SourceWidth != labels.Width || decoded.SourceHeight != labels.Height)
                throw new BadSampleException(imagePath,
                    $"image is {decoded.SourceWidth}x{decoded.SourceHeight} but its mask {maskPath} is {labels.Width}x{labels.Height}");
            recipe.Render(decoded, labels, labelOf, rng, image, mask);
        }
        finally { SampleFiles.Release(decoded); }
    }
}
