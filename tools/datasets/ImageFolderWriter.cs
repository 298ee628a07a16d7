using Engine.Data.Codecs;

namespace DatasetTools;

/// <summary>
/// Writes train/&lt;class&gt;/NNNNN.png and test/&lt;class&gt;/NNNNN.png (grayscale PNGs). The split is fixed
/// and documented: in each class, in the package's file order, the last round(testFraction x n)
/// examples are the test set, the rest the training set. Class folders are named "&lt;label&gt;-&lt;name&gt;"
/// so their sorted order is the label order.
/// </summary>
public static class ImageFolderWriter
{
    /// <summary>The `mnist` command's test share: the package has no split of its own (README: Splits).</summary>
    public const double MnistTestFraction = 0.2;

    public static (int Train, int Test) Write(string outDir, IReadOnlyList<string> classNames, List<GrayDigit>[] byClass, double testFraction)
    {
        int train = 0, test = 0;
        for (int c = 0; c < byClass.Length; c++)
        {
            var items = byClass[c];
            int nTest = (int)Math.Round(items.Count * testFraction);
            string folder = $"{c}-{classNames[c]}";
            var trainDir = Directory.CreateDirectory(Path.Combine(outDir, "train", folder)).FullName;
            var testDir = Directory.CreateDirectory(Path.Combine(outDir, "test", folder)).FullName;
            Parallel.For(0, items.Count, i =>
            {
                bool isTest = i >= items.Count - nTest;
                var png = PngCodec.EncodeGray(items[i].Pixels, NpmDigitPackage.Side, NpmDigitPackage.Side);
                File.WriteAllBytes(Path.Combine(isTest ? testDir : trainDir, $"{i:D5}.png"), png);
            });
            test += nTest;
            train += items.Count - nTest;
        }
        return (train, test);
    }
}
