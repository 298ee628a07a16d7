using Engine.Data.Codecs;
using Engine.Tensors;

namespace Engine.Data.Transforms;

/// <summary>
/// How one decoded image (and its mask, if any) becomes a fixed-size CHW float tensor: a geometric
/// choice (<see cref="ChooseCrop"/>: which box of the source, mirrored or not), training-only colour
/// changes, and a normalisation. Geometry is shared by image and mask, so every recipe is
/// segmentation-safe. Immutable: one instance serves all loader threads.
/// </summary>
public abstract class ImageRecipe
{
    protected ImageRecipe(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"output size {height}x{width} must be positive");
        Height = height;
        Width = width;
    }

    public int Height { get; }
    public int Width { get; }

    /// <summary>The smallest decoded size this recipe needs, so large JPEGs can be decoded at a reduced scale.</summary>
    public abstract DecodeHint DecodeHint { get; }

    /// <summary>The source box for a source of the given full size; <paramref name="rng"/> is null for evaluation (deterministic).</summary>
    public abstract CropBox ChooseCrop(int sourceWidth, int sourceHeight, Rng? rng);

    /// <summary>Training-only colour changes on the resized CHW image, 0..255.</summary>
    public virtual void Photometric(Span<float> chw, int channels, Rng rng) { }

    /// <summary>Per-channel mean (0..255 units) subtracted at the end; empty for none.</summary>
    public virtual ReadOnlySpan<float> Mean => default;

    /// <summary>Factor applied after the mean subtraction.</summary>
    public virtual float Scale => 1f / 255f;

    /// <summary>Replaces the recipe's own <see cref="Mean"/> and <see cref="Scale"/> (torchvision-style weights need it); null keeps them.</summary>
    public InputNormalization? Normalization { get; init; }

    public abstract string Describe();

    /// <summary>Renders the image (and mask) into the caller's CHW and HW buffers. A null <paramref name="rng"/> means evaluation.</summary>
    public void Render(Image8 image, IndexedImage? mask, ReadOnlySpan<int> labelOf, Rng? rng, Span<float> chw, Span<int> maskOut)
    {
        var box = ChooseCrop(image.SourceWidth, image.SourceHeight, rng);
        Resampler.Linear(image, box, Height, Width, chw);
        if (mask is not null) Resampler.Nearest(mask, box, Height, Width, labelOf, maskOut);
        if (rng is not null) Photometric(chw, image.Channels, rng);
        var mean = Mean;
        if (Normalization is { } normalization) normalization.Apply(chw, image.Channels);
        else if (!mean.IsEmpty && image.Channels == 1)
            Transforms.Photometric.Normalize(chw, 1, new[] { (mean[0] + mean[1] + mean[2]) / 3f }, Scale);
        else
            Transforms.Photometric.Normalize(chw, image.Channels, mean, Scale);
    }

    /// <summary>
    /// Recipes by name: "vovnet" (the seed's), "vgg" (training scale <paramref name="vggScale"/>,
    /// default <see cref="VggRecipe.DefaultScale"/>), "resize"; <paramref name="normalization"/> replaces the recipe's own;
    /// <paramref name="flip"/>: random mirroring in training, null for the recipe's own (vovnet and vgg mirror, resize does not).
    /// </summary>
    public static ImageRecipe ForName(string name, int size, (int Min, int Max)? vggScale = null, InputNormalization? normalization = null, bool? flip = null) =>
        name.ToLowerInvariant() switch
    {
        "vovnet" => new VoVNetRecipe(size, flip: flip ?? true) { Normalization = normalization },
        "vgg" => Vgg(size, vggScale ?? VggRecipe.DefaultScale(size), normalization, flip ?? true),
        "resize" => new ResizeRecipe(size, size, flip ?? false) { Normalization = normalization },
        _ => throw new ArgumentException($"unknown augmentation recipe '{name}' (expected vovnet, vgg or resize)"),
    };

    private static VggRecipe Vgg(int size, (int Min, int Max) scale, InputNormalization? normalization, bool flip) =>
        new(size, scale.Min, scale.Max, flip: flip) { Normalization = normalization };

    /// <summary>The recipe of a net's data: the seed's for vovnet, VGG's for vgg, a plain resize otherwise.</summary>
    public static string NameFor(string net)
    {
        var n = net.ToLowerInvariant();
        return n.StartsWith("vovnet", StringComparison.Ordinal) ? "vovnet" : n.StartsWith("vgg", StringComparison.Ordinal) ? "vgg" : "resize";
    }
}
