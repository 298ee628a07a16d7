using Engine.Data.Codecs;
using Engine.Tensors;

namespace Engine.Data.Transforms;

/// <summary>
/// The whole image squashed to Height x Width (aspect not kept), as the SegNet seed does at 64x64;
/// optionally mirrored at random during training. Pixels / 255.
/// </summary>
public sealed class ResizeRecipe(int height, int width, bool flip = false) : ImageRecipe(height, width)
{
    public bool Flip { get; } = flip;

    public override DecodeHint DecodeHint => new(0, Width, Height);

    public override CropBox ChooseCrop(int sourceWidth, int sourceHeight, Rng? rng)
        => CropBox.Full with { Flip = rng is not null && Flip && rng.NextDouble() < 0.5 };

    public override string Describe() => $"resize to {Height}x{Width}{(Flip ? ", random flip" : "")}, /255";
}
