using Engine.Data.Codecs;
using Engine.Tensors;

namespace Engine.Data.Transforms;

/// <summary>
/// VGG's training augmentation: isotropically rescale so the shorter side is S (S uniform in
/// [<see cref="MinScale"/>, <see cref="MaxScale"/>]; equal bounds give a fixed S), take a random
/// Size x Size crop, mirror with probability 1/2 (unless <see cref="Flip"/> is off), shift each RGB channel by a random amount
/// (a simple stand-in for AlexNet's PCA colour noise), subtract the mean RGB. Evaluation rescales
/// to Q = (MinScale + MaxScale) / 2 and takes the centre crop. Output is in 0..255 units minus the
/// mean, as in the original Caffe models, unless another <see cref="Scale"/> is given.
/// </summary>
public sealed class VggRecipe : ImageRecipe
{
    /// <summary>The ImageNet mean RGB used by the VGG models.</summary>
    public static readonly float[] ImageNetMean = [123.68f, 116.779f, 103.939f];

    private readonly float[] _mean;
    private readonly float _scale;

    public VggRecipe(int size = 224, int minScale = 256, int maxScale = 512, double channelShift = 20, float[]? mean = null, float scale = 1f,
        bool flip = true)
        : base(size, size)
    {
        if (minScale < size || maxScale < minScale)
            throw new ArgumentException($"VGG scale range [{minScale}, {maxScale}] must satisfy {size} <= min <= max");
        MinScale = minScale;
        MaxScale = maxScale;
        ChannelShift = channelShift;
        _mean = mean ?? ImageNetMean;
        _scale = scale;
        Flip = flip;
    }

    /// <summary>
    /// The paper's scale jitter [256, 512] for 224 crops, in proportion for other crop sizes
    /// ([37, 73] for 32), so a small input is not cut from a sliver of the image.
    /// </summary>
    public static (int Min, int Max) DefaultScale(int size) =>
        ((int)Math.Round(size * 256 / 224.0, MidpointRounding.AwayFromZero), (int)Math.Round(size * 512 / 224.0, MidpointRounding.AwayFromZero));


    /// <summary>"S" (fixed) or "MIN:MAX" (jitter), each at least the crop side <paramref name="size"/>.</summary>
    /// <exception cref="FormatException">Not of that form, or a bound below the crop side (the message says which).</exception>
    public static (int Min, int Max) ParseScale(string text, int size)
    {
        var parts = text.Split(':');
        var bounds = new int[parts.Length];
        if (parts.Length > 2 || !parts.Select((p, i) => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out bounds[i])).All(ok => ok))
            throw new FormatException("expected S or MIN:MAX in pixels, e.g. 37 or 37:73");
        int min = bounds[0], max = bounds[^1];
        if (min < size || max < min)
            throw new FormatException($"needs {size} <= MIN <= MAX, since a {size}x{size} crop is taken from the rescaled image");
        return (min, max);
    }

    public static VggRecipe WithScale(int size, (int Min, int Max) scale, bool flip = true) => new(size, scale.Min, scale.Max, flip: flip);

    public int MinScale { get; }
    public int MaxScale { get; }
    public double ChannelShift { get; }
    /// <summary>Random left-right mirroring in training (the paper's; off for data whose classes are not mirror images of themselves).</summary>
    public bool Flip { get; }
    public override ReadOnlySpan<float> Mean => _mean;
    public override float Scale => _scale;

    public override DecodeHint DecodeHint => new(MaxScale);

    public override CropBox ChooseCrop(int sourceWidth, int sourceHeight, Rng? rng)
    {
        int shorter = Math.Min(sourceWidth, sourceHeight);
        if (rng is null)
        {
            double q = (MinScale + MaxScale) / 2.0, side = Height * shorter / q;
            return CropBox.FromPixels((sourceWidth - side) / 2, (sourceHeight - side) / 2, side, side, sourceWidth, sourceHeight, false);
        }
        int s = MinScale + rng.NextInt(MaxScale - MinScale + 1);
        double crop = Height * (double)shorter / s;   // the Size crop of the rescaled image, in source pixels
        double x = rng.NextDouble() * (sourceWidth - crop), y = rng.NextDouble() * (sourceHeight - crop);
        bool flip = Flip && rng.NextDouble() < 0.5;
        return CropBox.FromPixels(x, y, crop, crop, sourceWidth, sourceHeight, flip);
    }

    public override void Photometric(Span<float> chw, int channels, Rng rng)
    {
        if (ChannelShift > 0) Transforms.Photometric.ChannelShift(chw, channels, rng, ChannelShift);
    }

    public override string Describe()
        => $"vgg: shorter side to S in [{MinScale}, {MaxScale}], random {Height} crop, {(Flip ? "flip" : "no flip")}, channel shift +-{ChannelShift}, minus mean RGB";
}
