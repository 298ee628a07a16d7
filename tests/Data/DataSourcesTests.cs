using System.Text;
using DatasetTools;
using Engine.Data;
using Engine.Data.Datasets;
using Engine.Tensors;

namespace Engine.Tests.Data;

public class DataSourcesTests
{
    [Test]
    public void Synthetic_is_the_default_and_segmentation_is_available()
    {
        var (train, val) = DataSources.Open(new DataRequest { SyntheticTrainCount = 20, SyntheticValidationCount = 10 });
        Assert.That((train.Count, val.Count, train.Task), Is.EqualTo((20, 10, TaskKind.Classification)));
        Assert.That(train.SampleShape, Is.EqualTo(new Shape(3, 32, 32)));
        var (seg, _) = DataSources.Open(new DataRequest { Source = "synthetic-segmentation", SyntheticTrainCount = 5, SyntheticValidationCount = 5 });
        Assert.That(seg.Task, Is.EqualTo(TaskKind.Segmentation));
    }

    [Test]
    public void Folders_with_train_and_test_and_voc_trees_are_recognised()
    {
        using var dir = new TempDir();
        var digits = NpmDigitPackage.Read(WriteFakeMnist(dir), "digits");
        ImageFolderWriter.Write(Path.Combine(dir.Path, "mnist"), Enumerable.Range(0, 10).Select(d => $"d{d}").ToArray(), digits, 0.5);
        var (train, val) = DataSources.Open(new DataRequest { Source = Path.Combine(dir.Path, "mnist"), ImageSize = 28, Recipe = "resize", Channels = 1 });
        Assert.That((train.Count, val.Count), Is.EqualTo((10, 10)));
        Assert.That(val.Describe(0), Does.Contain("test"));
        MnistVocWriter.Write(Path.Combine(dir.Path, "voc"), digits, 5, 40, 0.4, 1);
        var (segTrain, segVal) = DataSources.Open(new DataRequest { Source = Path.Combine(dir.Path, "voc") });
        Assert.That((segTrain.Count, segVal.Count, segTrain.Classes), Is.EqualTo((3, 2, 11)));
        Assert.Throws<DatasetException>(() => DataSources.Open(new DataRequest { Source = Path.Combine(dir.Path, "nothing") }));
    }

    private static string WriteFakeMnist(TempDir dir)
    {
        for (int d = 0; d < 10; d++)
            dir.File($"pkg/src/digits/{d}.json", Encoding.UTF8.GetBytes("{\"data\":[" + string.Join(',', Enumerable.Range(0, 2 * 784).Select(i => i % 29 == d ? "1" : "0")) + "]}"));
        return Path.Combine(dir.Path, "pkg");
    }
}
