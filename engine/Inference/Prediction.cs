using Engine.Training.Metrics;

namespace Engine.Inference;

/// <summary>One class with its softmax probability.</summary>
public readonly record struct ClassScore(int Class, string Name, double Probability);

/// <summary>
/// A net's answer for one image: the logits (K, or K x H x W for a segmentation net), the class
/// probabilities (softmax over K, per image or per pixel), the top classes of a classification,
/// or the mask (the best class of each pixel, row-major H x W) of a segmentation.
/// </summary>
public sealed class Prediction
{
    private readonly Func<int, string> _name;

    internal Prediction(float[] logits, int classes, int height, int width, Func<int, string> name)
    {
        Logits = logits; Classes = classes; Height = height; Width = width; _name = name;
        int plane = height * width;
        Probabilities = new double[logits.Length];
        var scores = new float[classes];
        for (int p = 0; p < plane; p++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int c = 0; c < classes; c++) max = Math.Max(max, logits[c * plane + p]);
            for (int c = 0; c < classes; c++) sum += Probabilities[c * plane + p] = Math.Exp(logits[c * plane + p] - max);
            for (int c = 0; c < classes; c++) Probabilities[c * plane + p] /= sum;
        }
        if (plane > 1)
        {
            Mask = new int[plane];
            for (int p = 0; p < plane; p++)
            {
                for (int c = 0; c < classes; c++) scores[c] = logits[c * plane + p];
                Mask[p] = TopK.ArgMax(scores);
            }
        }
    }

    public float[] Logits { get; }
    /// <summary>Softmax over the classes: K values, or K x H x W (class-major) for a segmentation.</summary>
    public double[] Probabilities { get; }
    public int Classes { get; }
    /// <summary>Segmentation: the mask's size; 1 x 1 for a classification.</summary>
    public int Height { get; }
    public int Width { get; }
    /// <summary>Segmentation: the best class of each pixel (H x W, row-major); null for a classification.</summary>
    public int[]? Mask { get; }

    /// <summary>The <paramref name="k"/> most probable classes, best first (classification).</summary>
    public IReadOnlyList<ClassScore> Top(int k = 5)
    {
        if (Mask is not null) throw new InvalidOperationException("a segmentation has a class per pixel: read Mask");
        return TopK.Best(Logits, k).Select(b => new ClassScore(b.Class, _name(b.Class), Probabilities[b.Class])).ToList();
    }
}
