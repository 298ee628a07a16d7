using Engine.Tensors;

namespace Engine.Data.Transforms;

/// <summary>Colour transforms on CHW float images in the 0..255 range, and the final normalisation.</summary>
public static class Photometric
{
    /// <summary>
    /// Brightness, contrast and saturation jitter, each factor uniform in [1 - j, 1 + j], applied in
    /// that fixed order (brightness scales; contrast blends with the image's mean gray; saturation
    /// blends each pixel with its own gray), then clamped to 0..255.
    /// </summary>
    public static void ColorJitter(Span<float> chw, int channels, Rng rng, double brightness, double contrast, double saturation)
    {
        float b = (float)rng.NextUniform(1 - brightness, 1 + brightness);
        float c = (float)rng.NextUniform(1 - contrast, 1 + contrast);
        float s = (float)rng.NextUniform(1 - saturation, 1 + saturation);
        int plane = chw.Length / channels;
        for (int i = 0; i < chw.Length; i++) chw[i] *= b;
        double meanGray = 0;
        for (int i = 0; i < plane; i++) meanGray += Gray(chw, channels, plane, i);
        float mean = (float)(meanGray / plane);
        for (int i = 0; i < chw.Length; i++) chw[i] = (chw[i] - mean) * c + mean;
        if (channels == 3)
            for (int i = 0; i < plane; i++)
            {
                float g = Gray(chw, channels, plane, i);
                for (int ch = 0; ch < 3; ch++) chw[ch * plane + i] = g + (chw[ch * plane + i] - g) * s;
            }
        Clamp(chw);
    }

    /// <summary>
    /// VGG's colour augmentation, simplified: one random shift per channel, uniform in
    /// [-amplitude, amplitude] (0..255 units), instead of AlexNet's PCA-based RGB noise.
    /// </summary>
    public static void ChannelShift(Span<float> chw, int channels, Rng rng, double amplitude)
    {
        int plane = chw.Length / channels;
        for (int ch = 0; ch < channels; ch++)
        {
            float shift = (float)rng.NextUniform(-amplitude, amplitude);
            foreach (ref var v in chw.Slice(ch * plane, plane)) v += shift;
        }
        Clamp(chw);
    }

    /// <summary>x = (x - mean[c]) * scale; an empty mean subtracts nothing.</summary>
    public static void Normalize(Span<float> chw, int channels, ReadOnlySpan<float> mean, float scale)
    {
        int plane = chw.Length / channels;
        for (int ch = 0; ch < channels; ch++)
        {
            float m = mean.IsEmpty ? 0f : mean[ch];
            foreach (ref var v in chw.Slice(ch * plane, plane)) v = (v - m) * scale;
        }
    }

    private static float Gray(Span<float> chw, int channels, int plane, int i)
        => channels == 3 ? 0.299f * chw[i] + 0.587f * chw[plane + i] + 0.114f * chw[2 * plane + i] : chw[i];

    private static void Clamp(Span<float> chw)
    {
        foreach (ref var v in chw) v = Math.Clamp(v, 0f, 255f);
    }
}
