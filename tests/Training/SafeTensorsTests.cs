using System.Text.Json.Nodes;
using Engine.Graph;
using Engine.Tensors;
using Engine.Tests.Training.Support;
using Engine.Training.Checkpoints;
using Engine.Weights;

namespace Engine.Tests.Training;

public class SafeTensorsTests
{
    private static readonly Shape Input = new(2, 3, 3);

    [Test]
    public void Weights_round_trip_by_name_exactly()
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        var graph = TinyNets.Classifier(Input, classes: 4);
        using var a = new ParameterBuffers(graph, backend);
        a.Initialize(11);
        WeightFile.Save(dir["w.safetensors"], a, new Dictionary<string, string> { ["net"] = "tiny" });
        using var b = new ParameterBuffers(graph, backend);
        b.Initialize(12);
        Assert.That(b.GetValues(), Is.Not.EqualTo(a.GetValues()));
        var meta = WeightFile.LoadExact(dir["w.safetensors"], b);
        Assert.That(b.GetValues(), Is.EqualTo(a.GetValues()));
        Assert.That(meta["net"], Is.EqualTo("tiny"));
        var header = SafeTensors.ReadHeader(dir["w.safetensors"]);
        Assert.That(header.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }));
        Assert.That(header.Tensors.All(t => t.DType == "F32"));
        Assert.That(header.DataStart % 8, Is.EqualTo(0), "header padded to 8 bytes");
    }

    [Test]
    public void A_numpy_reader_sees_the_same_names_shapes_and_values()
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        var graph = TinyNets.Classifier(Input, classes: 4);
        using var p = new ParameterBuffers(graph, backend);
        p.Initialize(5);
        var path = dir["w.safetensors"];
        WeightFile.Save(path, p);
        const string reader = """
            import json, struct, sys
            import numpy as np
            raw = open(sys.argv[1], 'rb').read()
            n = struct.unpack('<Q', raw[:8])[0]
            header = json.loads(raw[8:8 + n])
            data = raw[8 + n:]
            out = {}
            for name, t in header.items():
                if name == '__metadata__':
                    continue
                assert t['dtype'] == 'F32'
                b, e = t['data_offsets']
                a = np.frombuffer(data[b:e], dtype='<f4').reshape(t['shape'])
                out[name] = {'shape': list(a.shape), 'values': [float(v) for v in a.ravel()]}
            print(json.dumps(out))
            """;
        var result = JsonNode.Parse(SystemPython.Run(reader, path))!.AsObject();
        var values = p.GetValues();
        Assert.That(result.Count, Is.EqualTo(graph.Parameters.Views.Count));
        foreach (var v in graph.Parameters.Views)
        {
            var t = result[v.Name]!;
            Assert.That(t["shape"]!.AsArray().Select(d => (int)d!), Is.EqualTo(v.Shape.Dims.ToArray()), v.Name);
            var expected = values.AsSpan((int)v.Offset, (int)v.Count).ToArray();
            Assert.That(t["values"]!.AsArray().Select(x => (double)x!), Is.EqualTo(expected), v.Name);
        }
    }

    [Test]
    public void Reads_f16_and_bf16_written_by_numpy()
    {
        using var dir = new TempDir();
        var path = dir["half.safetensors"];
        const string writer = """
            import json, struct, sys
            import numpy as np
            h = np.array([1.5, -2.0, 0.25], dtype='<f2').tobytes()
            f = np.array([3.0, -0.5], dtype='<f4')
            bf = (f.view('<u4') >> 16).astype('<u2').tobytes()
            header = {'a': {'dtype': 'F16', 'shape': [3], 'data_offsets': [0, 6]},
                      'b': {'dtype': 'BF16', 'shape': [2, 1], 'data_offsets': [6, 10]}}
            hb = json.dumps(header).encode()
            open(sys.argv[1], 'wb').write(struct.pack('<Q', len(hb)) + hb + h + bf)
            """;
        SystemPython.Run(writer, path);
        var (tensors, _) = SafeTensors.Read(path);
        Assert.That(tensors[0].Data, Is.EqualTo(new[] { 1.5, -2.0, 0.25 }));
        Assert.That(tensors[1].Data, Is.EqualTo(new[] { 3.0, -0.5 }));
        Assert.That(tensors[1].Shape, Is.EqualTo(new Shape(2, 1)));
    }

    [Test]
    public void A_damaged_file_is_reported_by_name()
    {
        using var dir = new TempDir();
        var path = dir["bad.safetensors"];
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.That(() => SafeTensors.Read(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains(path));
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(4L), .. "{{{{"u8.ToArray()]);
        Assert.That(() => SafeTensors.Read(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains("not valid JSON"));
    }

    [Test]
    public void Init_from_loads_matching_names_and_reports_missing_and_extra()
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        var source = TinyNets.Classifier(Input, classes: 4, hidden: 16);
        using var a = new ParameterBuffers(source, backend);
        a.Initialize(1);
        WeightFile.Save(dir["a.safetensors"], a);

        // A "segmentation" net holding the classifier's fc1 under a scope, plus a head of its own.
        var b = new GraphBuilder("seg");
        var x = b.Input("image", Input);
        Value h;
        using (b.Scope("backbone")) h = b.Add1(new TinyLinear(16), "fc1", x);
        b.Output("logits", b.Add1(new TinyLinear(3), "head", h));
        var target = b.Build();
        using var t = new ParameterBuffers(target, backend);
        t.Initialize(2);
        var headBefore = t.GetValues()[(int)target.Parameters["head.weight"].Offset];
        var report = WeightImport.Load(dir["a.safetensors"], t, ImportMode.Partial);

        Assert.That(report.Prefix, Is.EqualTo("backbone."));
        Assert.That(report.Loaded, Is.EqualTo(2));
        Assert.That(report.Missing, Is.EqualTo(new[] { "head.weight", "head.bias" }));
        Assert.That(report.Unused, Is.EqualTo(new[] { "fc2.weight", "fc2.bias" }));
        var view = target.Parameters["backbone.fc1.weight"];
        Assert.That(t.GetValues().AsSpan((int)view.Offset, (int)view.Count).ToArray(),
            Is.EqualTo(a.GetValues().AsSpan((int)source.Parameters["fc1.weight"].Offset, (int)view.Count).ToArray()));
        Assert.That(t.GetValues()[(int)target.Parameters["head.weight"].Offset], Is.EqualTo(headBefore));
        Assert.That(string.Join("\n", report.Notes()), Does.Contain("keep their initial values").And.Contain("ignored"));
    }

    [Test]
    public void Init_from_without_a_common_name_is_an_error()
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        using var a = new ParameterBuffers(TinyNets.Classifier(Input, classes: 4), backend);
        WeightFile.Save(dir["a.safetensors"], a);
        using var seg = new ParameterBuffers(TinyNets.Segmenter(new Shape(2, 3, 3), 3), backend);
        Assert.That(() => WeightImport.Load(dir["a.safetensors"], seg, ImportMode.Partial),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("none of its 4 tensors matches"));
    }
}
