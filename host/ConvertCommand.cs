using System.CommandLine;
using Engine.Training.Checkpoints;
using Engine.Weights;

namespace Host;

/// <summary>`host convert`: a weights file (or a run's) rewritten as safetensors in the engine's, torchvision's or timm's names.</summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var net = new NetArguments();
        var from = new Option<string>("--from")
        {
            Description = "Weights to read: a run folder, or a .safetensors / PyTorch .pth/.pt file in the engine's, torchvision VGG's or timm VoVNet's names (recognised from the names; outside a run give --net).",
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "The .safetensors file to write.", Required = true };
        var to = new Option<string?>("--to") { Description = "Names to write: engine (default; what --init-from, eval and predict read fastest), torchvision (VGG) or timm (VoVNet), for loading there with load_state_dict." };
        var cmd = new Command("convert", "Rewrite weights as safetensors under the engine's names, or under torchvision's/timm's to load them there. " +
            "Every tensor of the net must be in the file with its shape.") { from, output, to };
        net.AddTo(cmd);
        cmd.SetAction(r => CommandGuard.Run(() =>
        {
            var source = r.GetValue(from)!;
            var target = r.GetValue(output)!;
            if (!target.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"--out {target}: the file name must end in .safetensors");
            NameMap layout;
            try { layout = NameMap.ByKey(r.GetValue(to) ?? "engine"); }
            catch (ArgumentException e) { throw new UsageException($"--to {e.Message}"); }
            var settings = TrainedModel.ReadSettings(r, net, source);
            using var model = TrainedModel.Load(settings, source, gpu: null, denseEvaluation: false);
            var p = model.Net.Parameters;
            int written = layout == NameMap.Engine ? Save(target, p) : WeightFile.SaveAs(target, p, layout);
            Console.WriteLine($"read {model.WeightsFile} ({model.Net.Import.Layout.Name} names, {model.Net.Import.Loaded} tensors) for {settings.Net}" +
                $" ({settings.Classes} classes{(settings.AdaptivePool ? ", adaptive pooling before fc6" : "")})");
            Console.WriteLine($"wrote {target}: {written} tensors in {layout.Name} names");
            return 0;
        }));
        return cmd;
    }

    private static int Save(string path, Engine.Graph.ParameterBuffers p)
    {
        WeightFile.Save(path, p);
        return p.Graph.Parameters.Views.Count + p.Graph.States.Views.Count;
    }
}
