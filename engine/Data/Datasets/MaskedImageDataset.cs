using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Data.Datasets;

/// <summary>
/// A segmentation tree: images and label masks (palette or 8-bit grayscale PNGs of the same size)
/// named by the same ids, rendered together through a recipe. A mask value maps to a label through
/// a table (-2: no class has it, and the file is skipped, naming it).
/// </summary>
public abstract class MaskedImageDataset : IDataset
{
    private readonly string[] _ids;
    private readonly string[] _classes;
    private readonly int[] _labelOf;
    private readonly ImageRecipe _recipe;
    private readonly string _whatInvalidIs;

    /// <param name="labelOf">Mask value (0..255) -> label, -2 where invalid.</param>
    /// <param name="whatInvalidIs">How an invalid value is described, after "mask value V is".</param>
    protected MaskedImageDataset(string name, string[] ids, string[] classes, int[] labelOf, int ignoreLabel, ImageRecipe recipe, string whatInvalidIs)
    {
        Name = name;
        _ids = ids;
        _classes = classes;
        _labelOf = labelOf;
        IgnoreLabel = ignoreLabel;
        _recipe = recipe;
        _whatInvalidIs = whatInvalidIs;
    }

    public string Name { get; }
    public TaskKind Task => TaskKind.Segmentation;
    public int Count => _ids.Length;
    public int Classes => _classes.Length;
    public IReadOnlyList<string> ClassNames => _classes;
    public Shape SampleShape => new(3, _recipe.Height, _recipe.Width);
    public int IgnoreLabel { get; }
    public IReadOnlyList<string> Ids => _ids;
    public string Describe(int index) => ImagePath(_ids[index]);

    protected abstract string ImagePath(string id);
    protected abstract string MaskPath(string id);

    /// <summary>A label table with every value invalid (-2), to be filled.</summary>
    protected static int[] NoLabels() => Enumerable.Repeat(-2, 256).ToArray();

    public Sample Load(int index, Rng rng, bool augment)
    {
        var image = new float[SampleShape.Numel];
        var mask = new int[_recipe.Height * _recipe.Width];
        LoadInto(index, rng, augment, image, mask);
        return new Sample(image, -1, mask);
    }

    public int LoadInto(int index, Rng rng, bool augment, Span<float> image, Span<int> mask)
    {
        string imagePath = ImagePath(_ids[index]), maskPath = MaskPath(_ids[index]);
        var labels = SampleFiles.DecodeMask(maskPath);
        foreach (var v in labels.Indices)
            if (_labelOf[v] == -2) throw new BadSampleException(maskPath, $"mask value {v} is {_whatInvalidIs}");
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
}
