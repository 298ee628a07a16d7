namespace Engine.Data.Transforms;

/// <summary>
/// The part of a source image that becomes the output, as fractions of the source's width and
/// height (so it applies equally to an image decoded at a reduced JPEG scale and to its full-size
/// mask), and whether the output is mirrored left-right.
/// </summary>
public readonly record struct CropBox(double X, double Y, double Width, double Height, bool Flip)
{
    public static CropBox Full => new(0, 0, 1, 1, false);

    /// <summary>A box given in source pixels, normalised by the source size.</summary>
    public static CropBox FromPixels(double x, double y, double width, double height, int sourceWidth, int sourceHeight, bool flip)
        => new(x / sourceWidth, y / sourceHeight, width / sourceWidth, height / sourceHeight, flip);
}
