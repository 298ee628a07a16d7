using Engine.Data.Datasets;
using Engine.Data.Loader;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Distributed;

/// <summary>Ranks together see what one process at the global batch sees: the same examples, augmented and dropped out the same way.</summary>
public class ShardingTests
{
    private static List<(float[] Images, int[] Indices)> Batches(int rank, int ranks, int batch, int epochs)
    {
        var data = new SyntheticShapesDataset(40, 16);
        using var loader = new DataLoader(data, new LoaderOptions { BatchSize = batch, Rank = rank, Ranks = ranks, DropLast = true, Seed = 9, Threads = 2 });
        var batches = new List<(float[], int[])>();
        for (int i = 0; i < loader.BatchesPerEpoch * epochs; i++)
        {
            var b = loader.Next();
            batches.Add((b.Images.ToArray(), b.Indices.ToArray()));
        }
        return batches;
    }

    [TestCase(2)]
    [TestCase(3)]
    public void The_ranks_shares_of_each_global_batch_are_the_one_process_batch(int ranks)
    {
        const int perRank = 2, epochs = 2;
        var whole = Batches(0, 1, perRank * ranks, epochs);
        var shares = Enumerable.Range(0, ranks).Select(r => Batches(r, ranks, perRank, epochs)).ToArray();
        Assert.That(shares.Select(s => s.Count), Is.All.EqualTo(whole.Count));
        for (int b = 0; b < whole.Count; b++)
        {
            Assert.That(shares.SelectMany(s => s[b].Indices), Is.EqualTo(whole[b].Indices), $"batch {b}");
            Assert.That(shares.SelectMany(s => s[b].Images), Is.EqualTo(whole[b].Images), $"batch {b}: augmentation follows the example");
        }
    }

    [Test]
    public void A_sharded_loader_needs_drop_last()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataLoader(new SyntheticShapesDataset(8, 16), new LoaderOptions { BatchSize = 2, Ranks = 2, Rank = 1 }));
        Assert.That(e!.Message, Does.Contain("drops the last partial batch"));
    }

    private static double[] DropoutOutput(int batch, long exampleOffset)
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(3, 4, 4));
        var y = b.Dropout(x, 0.5, name: "drop");
        b.Output("y", y);
        using var exec = new Executor(b.Build(), new CpuBackend<double>(), batch) { Seed = 3, Step = 5, ExampleOffset = exampleOffset };
        exec.SetInput("x", Enumerable.Repeat(1.0, batch * 48).ToArray());
        exec.Forward(training: true);
        return exec.Read(y);
    }

    [Test]
    public void Dropout_masks_follow_the_global_example_index()
    {
        var whole = DropoutOutput(batch: 6, exampleOffset: 0);
        var second = DropoutOutput(batch: 2, exampleOffset: 2);
        Assert.That(second, Is.EqualTo(whole[(2 * 48)..(4 * 48)]));
        Assert.That(DropoutOutput(batch: 2, exampleOffset: 0), Is.Not.EqualTo(second), "another offset, another mask");
    }
}
