using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Data.Datasets;

/// <summary>An image and its label mask (a palette or 8-bit grayscale PNG of the same size), rendered together through a recipe.</summary>
internal static class MaskedImages
{
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
