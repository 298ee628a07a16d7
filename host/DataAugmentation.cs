using System.Globalization;

namespace Host;

/// <summary>The augmentation a recipe chose (null: the net's own) and the line that says what and why.</summary>
public sealed record AugmentationChoice(string? VggScale, bool? Flip, string Line);

/// <summary>
/// `--recipe data`'s augmentation for a folder below ImageNet size: only changes that keep the
/// label of any class folder, mild enough to be learnt in the recipe's short run.
/// <list type="bullet">
/// <item>VGG nets: scale jitter S in [side, ceil(9/8 side)], so a training crop keeps 89..100 % of
/// the image's side (a shift of up to 1/9 of it, like CIFAR's 4-pixel pad-and-crop at 32) and
/// evaluation sees the centre 94 %. The paper's S in [256, 512] for 224 (in proportion at other
/// sides) crops 44..88 % and evaluates the centre 58 %: made for ImageNet's 1.3 million photos over
/// 74 epochs, it cut a 28x28 digit to a fragment and left the training error above the validation
/// error after 4,000 steps on 1,500 digits (results/recipe-data-mnist-2026-11-30.md).</item>
/// <item>No mirroring: a mirror image keeps the class of a photo of a cat but not of a digit, a
/// letter or a road sign, and the recipe cannot tell which the folder holds. Where it is wrong the
/// net must also learn the mirrored classes (measured on 1,500 digits: 91.8 % with flips, 95.6 %
/// without, 10 epochs); where it is right it forgoes a modest gain. `--flip on` turns it back on.</item>
/// <item>The rest of the net's augmentation stays (VGG's channel shift, VoVNet's 87.5 % crop and
/// colour jitter, which keep any label).</item>
/// </list>
/// </summary>
public static class DataAugmentation
{
    public static AugmentationChoice Choose(string net, int side, int examples, string? givenScale, bool? givenFlip)
    {
        if (examples >= DataRecipe.LargeData)
            return new AugmentationChoice(givenScale, givenFlip, $"recipe data: augmentation: {net}'s own, as for ImageNet");
        bool vgg = DataChoice.RecipeName(net) == "vgg";
        string? scale = vgg ? givenScale ?? Inv($"{side}:{MildScale(side)}") : givenScale;
        bool flip = givenFlip ?? false;
        string scaleWhy = !vgg ? "" : givenScale is not null ? $"VGG scale S {scale} as given, " : MildScaleWhy(side);
        string flipWhy = givenFlip is not null ? $"mirroring {(flip ? "on" : "off")} as given"
            : "no mirroring (a mirror changes the class of digits, letters or signs; --flip on where the classes are mirror-symmetric)";
        return new AugmentationChoice(scale, flip, $"recipe data: augmentation: {scaleWhy}{flipWhy}; the rest of {net}'s own augmentation kept");
    }

    /// <summary>The top of the mild scale range: ceil(9/8 side), so a crop keeps at least 8/9 of the image's side.</summary>
    public static int MildScale(int side) => (side * 9 + 7) / 8;

    /// <summary>What share of the image's side a crop at scale S keeps, and evaluation's at the range's middle, for the paper's range and the mild one.</summary>
    private static string MildScaleWhy(int side)
    {
        var (min, max) = Engine.Data.Transforms.VggRecipe.DefaultScale(side);
        int mild = MildScale(side);
        return Inv($"VGG scale S in [{side}, {mild}] (random crops of {Percent(side, mild)}..100 % of the image's side, the centre {Percent(side, (side + mild) / 2.0)} % ") +
               Inv($"for evaluation; the paper's [{min}, {max}] crops {Percent(side, max)}..{Percent(side, min)} % and evaluates {Percent(side, (min + max) / 2.0)} %, made for ImageNet's long runs), ");
    }

    private static int Percent(int side, double scale) => (int)Math.Round(100 * side / scale);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
