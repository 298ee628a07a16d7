using Engine.Data.Codecs;
using Engine.Tensors;

namespace Engine.Data.Transforms;

/// <summary>
/// The VoVNet seed's augmentation: training takes a random square crop whose side is
/// <see cref="CropFraction"/> of the shorter side, mirrors it with probability 1/2 (unless <see cref="Flip"/> is off), resizes it
/// linearly to Size x Size and jitters brightness, contrast and saturation by +-<see cref="Jitter"/>.
/// Evaluation takes the centre square of the same side. Pixels / 255, no mean subtraction.
/// </summary>
public sealed class VoVNetRecipe(int size = 224, double cropFraction = 0.875, double jitter = 0.2, bool flip = true) : ImageRecipe(size, size)
{
    public double CropFraction { get; } = cropFraction is > 0 and <= 1 ? cropFraction
        : throw new ArgumentException($"crop fraction {cropFraction} must be in (0, 1]");
    public double Jitter { get; } = jitter;
    /// <summary>Random left-right mirroring in training.</summary>
    public bool Flip { get; } = flip;

    public override DecodeHint DecodeHint => new((int)Math.Ceiling(Height / CropFraction));

    public override CropBox ChooseCrop(int sourceWidth, int sourceHeight, Rng? rng)
    {
        double side = CropFraction * Math.Min(sourceWidth, sourceHeight);
        if (rng is null)
            return CropBox.FromPixels((sourceWidth - side) / 2, (sourceHeight - side) / 2, side, side, sourceWidth, sourceHeight, false);
        double x = rng.NextDouble() * (sourceWidth - side), y = rng.NextDouble() * (sourceHeight - side);
        bool flip = Flip && rng.NextDouble() < 0.5;
        return CropBox.FromPixels(x, y, side, side, sourceWidth, sourceHeight, flip);
    }

    public override void Photometric(Span<float> chw, int channels, Rng rng)
    {
        if (Jitter > 0) Transforms.Photometric.ColorJitter(chw, channels, rng, Jitter, Jitter, Jitter);
    }

    public override string Describe()
        => $"vovnet: random square crop {CropFraction} of the shorter side, {(Flip ? "flip" : "no flip")}, colour jitter +-{Jitter}, resize to {Height}x{Width}, /255";
}
