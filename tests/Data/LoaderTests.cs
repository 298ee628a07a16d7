using System.Collections.Concurrent;
using Engine.Data;
using Engine.Data.Datasets;
using Engine.Data.Loader;
using Engine.Tensors;

namespace Engine.Tests.Data;

public class LoaderTests
{
    /// <summary>
    /// Image = (index, two draws of the example's generator, ...); labels index % 3. Examples in
    /// <see cref="Bad"/> throw <see cref="BadSampleException"/>; <see cref="Loads"/> counts attempts.
    /// </summary>
    private sealed class ProbeDataset(int count, params int[] bad) : IDataset
    {
        public HashSet<int> Bad { get; } = [.. bad];
        public ConcurrentDictionary<int, int> Loads { get; } = new();
        public Exception? Fatal { get; init; }
        public string Name => "probe";
        public TaskKind Task => TaskKind.Classification;
        public int Count => count;
        public int Classes => 3;
        public IReadOnlyList<string> ClassNames => ["a", "b", "c"];
        public Shape SampleShape => new(1, 2, 2);
        public int IgnoreLabel => -1;
        public string Describe(int index) => $"file{index}.jpg";

        public Sample Load(int index, Rng rng, bool augment)
        {
            Loads.AddOrUpdate(index, 1, (_, n) => n + 1);
            if (Fatal is not null) throw Fatal;
            if (Bad.Contains(index)) throw new BadSampleException(Describe(index), "truncated JPEG");
            Thread.SpinWait(index * 37 % 500);   // uneven work, so threads finish out of order
            return new Sample([index, (float)rng.NextDouble(), augment ? (float)rng.NextDouble() : 0, 1], index % 3, null);
        }
    }

    private static List<(float[] Images, int[] Labels, int[] Indices)> Collect(DataLoader loader, int batches)
    {
        var result = new List<(float[], int[], int[])>();
        for (int i = 0; i < batches; i++)
        {
            var b = loader.Next();
            result.Add((b.Images.ToArray(), b.Labels.ToArray(), b.Indices.ToArray()));
        }
        return result;
    }

    [Test]
    public void Same_seed_gives_the_same_batches_with_one_or_many_threads()
    {
        var options = new LoaderOptions { BatchSize = 5, Seed = 42, Threads = 1 };
        using var one = new DataLoader(new ProbeDataset(23), options);
        using var many = new DataLoader(new ProbeDataset(23), options with { Threads = 4, Prefetch = 3 });
        var a = Collect(one, 12);
        var b = Collect(many, 12);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.That(b[i].Images, Is.EqualTo(a[i].Images), $"batch {i}");
            Assert.That(b[i].Labels, Is.EqualTo(a[i].Labels));
        }
        using var other = new DataLoader(new ProbeDataset(23), options with { Seed = 43 });
        Assert.That(Collect(other, 1)[0].Images, Is.Not.EqualTo(a[0].Images));
    }

    [Test]
    public void Each_epoch_is_a_new_permutation_with_a_short_last_batch()
    {
        using var loader = new DataLoader(new ProbeDataset(23), new LoaderOptions { BatchSize = 5, Seed = 1, Threads = 2 });
        Assert.That(loader.BatchesPerEpoch, Is.EqualTo(5));
        var epochs = new List<int[]>();
        for (int e = 0; e < 2; e++)
        {
            var seen = new List<int>();
            foreach (var batch in loader.RestOfEpoch())
            {
                Assert.That(batch.Epoch, Is.EqualTo(e));
                Assert.That(batch.Count, Is.EqualTo(batch.Index == 4 ? 3 : 5));
                Assert.That(batch.Images.Length, Is.EqualTo(batch.Count * 1 * 2 * 2), "N x 1 x 2 x 2 images");
                var images = batch.Images.Span;
                for (int j = 0; j < batch.Count; j++)
                {
                    Assert.That(images[j * 4], Is.EqualTo(batch.Indices.Span[j]), "slot j holds example DatasetIndices[j]");
                    Assert.That(batch.Labels.Span[j], Is.EqualTo(batch.Indices.Span[j] % 3));
                }
                seen.AddRange(batch.Indices.ToArray());
            }
            Assert.That(seen.Order(), Is.EqualTo(Enumerable.Range(0, 23)));
            epochs.Add([.. seen]);
        }
        Assert.That(epochs[1], Is.Not.EqualTo(epochs[0]));
        Assert.That(loader.Position, Is.EqualTo(new LoaderPosition(2, 0)));
    }

    [Test]
    public void Drop_last_and_no_shuffle()
    {
        using var loader = new DataLoader(new ProbeDataset(23), new LoaderOptions { BatchSize = 5, Shuffle = false, DropLast = true, Augment = false, Threads = 3 });
        Assert.That(loader.BatchesPerEpoch, Is.EqualTo(4));
        var batches = Collect(loader, 5);
        Assert.That(batches[3].Indices, Is.EqualTo(new[] { 15, 16, 17, 18, 19 }));
        Assert.That(batches[4].Indices, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }), "a new epoch starts after 4 batches");
        Assert.That(batches[4].Images, Is.Not.EqualTo(batches[0].Images), "the example generators depend on the epoch");
    }

    [Test]
    public void A_resumed_loader_continues_with_the_same_batches()
    {
        var options = new LoaderOptions { BatchSize = 4, Seed = 9, Threads = 2 };
        using var full = new DataLoader(new ProbeDataset(18), options);
        var all = Collect(full, 13);   // 5 batches per epoch: up to epoch 2, batch 2
        using var resumed = new DataLoader(new ProbeDataset(18), options, new LoaderPosition(1, 2));
        Assert.That(resumed.Position, Is.EqualTo(new LoaderPosition(1, 2)));
        var rest = Collect(resumed, 6);
        for (int i = 0; i < rest.Count; i++) Assert.That(rest[i].Images, Is.EqualTo(all[7 + i].Images), $"batch {7 + i}");
    }

    [Test]
    public void Unreadable_examples_are_replaced_by_the_next_index_and_logged_once()
    {
        var log = new ConcurrentQueue<string>();
        var ds = new ProbeDataset(10, 3, 4, 9);
        using var loader = new DataLoader(ds, new LoaderOptions { BatchSize = 10, Shuffle = false, Threads = 3, Log = log.Enqueue });
        var epoch0 = Collect(loader, 1)[0];
        Assert.That(epoch0.Indices, Is.EqualTo(new[] { 0, 1, 2, 5, 5, 5, 6, 7, 8, 0 }), "3 and 4 become 5, 9 wraps to 0");
        var epoch1 = Collect(loader, 1)[0];
        Assert.That(epoch1.Indices, Is.EqualTo(epoch0.Indices));
        Assert.That(log.Order(), Is.EqualTo(new[]
        {
            "skipping unreadable example file3.jpg: truncated JPEG",
            "skipping unreadable example file4.jpg: truncated JPEG",
            "skipping unreadable example file9.jpg: truncated JPEG",
        }));
        Assert.That(loader.SkippedCount, Is.EqualTo(3));
        Assert.That(ds.Bad.Sum(i => ds.Loads[i]), Is.LessThanOrEqualTo(6), "known-bad files are not decoded again and again");
    }

    [Test]
    public void A_dataset_with_no_readable_example_is_one_clear_error()
    {
        using var loader = new DataLoader(new ProbeDataset(6, 0, 1, 2, 3, 4, 5), new LoaderOptions { BatchSize = 2, Threads = 2 });
        var ex = Assert.Throws<DatasetException>(() => loader.Next());
        Assert.That(ex!.Message, Does.Contain("none of its 6 examples is readable").And.Contain("truncated JPEG"));
    }

    [Test]
    public void Other_errors_are_not_skipped_but_reach_the_caller()
    {
        var ds = new ProbeDataset(6) { Fatal = new Engine.Data.Codecs.ImageLibraryException("libturbojpeg.so.0 could not be loaded") };
        using var loader = new DataLoader(ds, new LoaderOptions { BatchSize = 2, Threads = 2 });
        Assert.Throws<Engine.Data.Codecs.ImageLibraryException>(() => loader.Next());
    }

    [Test]
    public void Batches_are_written_into_caller_provided_buffers()
    {
        var pinned = new List<float[]>();
        var options = new LoaderOptions
        {
            BatchSize = 3, Threads = 2, Prefetch = 2,
            AllocateImages = n => { var a = GC.AllocateArray<float>(n, pinned: true); pinned.Add(a); return a; },
        };
        using var loader = new DataLoader(new ProbeDataset(9), options);
        Assert.That(pinned, Has.Count.EqualTo(3), "prefetch + 1 buffers");
        var batch = loader.Next();
        Assert.That(pinned.Any(a => System.Runtime.CompilerServices.Unsafe.AreSame(ref a[0], ref System.Runtime.InteropServices.MemoryMarshal.GetReference(batch.Images.Span))),
            "the batch's images live in one of the caller's arrays");
    }

    [Test]
    public void Segmentation_batches_carry_masks()
    {
        var ds = new SyntheticSegmentationDataset(10, 16);
        using var loader = new DataLoader(ds, new LoaderOptions { BatchSize = 4, Threads = 2 });
        var batch = loader.Next();
        Assert.That(batch.Labels.Length, Is.EqualTo(4 * 16 * 16));
        var s = ds.Load(batch.Indices.Span[1], new Rng(DataLoader.SampleSeed(0, 0, batch.Indices.Span[1])), true);
        Assert.That(batch.Labels.Span.Slice(256, 256).ToArray(), Is.EqualTo(s.Mask));
        Assert.That(batch.Images.Span.Slice(3 * 256, 3 * 256).ToArray(), Is.EqualTo(s.Image));
    }

    [Test]
    public void Too_few_examples_for_one_batch_is_a_clear_error()
    {
        var ex = Assert.Throws<DatasetException>(() => new DataLoader(new ProbeDataset(3), new LoaderOptions { BatchSize = 4, DropLast = true }));
        Assert.That(ex!.Message, Does.Contain("fewer than one batch"));
    }
}
