using Engine.Data.Datasets;
using Engine.Data.Loader;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Nhwc;

/// <summary>The loader writes NHWC batches when asked: each image's channels interleaved per pixel, the same examples and labels as NCHW.</summary>
public class NhwcLoaderTests
{
    [Test]
    public void An_nhwc_batch_is_the_nchw_batch_with_each_image_transposed()
    {
        var (train, _) = SyntheticShapesDataset.Split(40, 8, size: 12, seed: 3);
        var options = new LoaderOptions { BatchSize = 6, Seed = 5, Threads = 3 };
        using var nchwLoader = new DataLoader(train, options);
        using var nhwcLoader = new DataLoader(train, options with { Layout = Layout.Nhwc });
        var shape = train.SampleShape;
        Assert.That(shape[0], Is.GreaterThan(1), "a multi-channel image, so the layouts differ");
        for (int i = 0; i < 4; i++)
        {
            var a = nchwLoader.Next();
            var b = nhwcLoader.Next();
            Assert.That((a.Layout, b.Layout), Is.EqualTo((Layout.Nchw, Layout.Nhwc)));
            Assert.That(b.Labels.ToArray(), Is.EqualTo(a.Labels.ToArray()));
            var expected = new float[a.Images.Length];
            LayoutTranspose.ToNhwc(a.Images.Span, expected, new Shape(a.Count, shape[0], shape[1], shape[2]));
            Assert.That(b.Images.ToArray(), Is.EqualTo(expected), $"batch {i}");
            Assert.That(b.Images.ToArray(), Is.Not.EqualTo(a.Images.ToArray()));

            // An NHWC executor takes the NHWC batch as it is and holds what it holds after the NCHW batch.
            var gb = new GraphBuilder("id");
            var x = gb.Input("image", shape);
            gb.Output("y", gb.Relu(x));
            var g = gb.Build();
            using var exec = new Executor(g, new CpuBackend<float>(Layout.Nhwc), a.Count, new ExecutorOptions { KeepAll = true });
            exec.SetInput("image", b.Images.Span, b.Layout);
            var fromNhwc = exec.ReadStored(x);
            exec.SetInput("image", a.Images.Span, a.Layout);
            Assert.That(exec.ReadStored(x), Is.EqualTo(fromNhwc));
            Assert.That(fromNhwc, Is.EqualTo(expected.Select(v => (double)v)));
        }
    }
}
