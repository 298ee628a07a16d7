using System.CommandLine;
using Engine.Graph;
using Engine.Graph.Memory;
using Engine.Nets;
using Engine.Ops;
using Engine.Tensors;

namespace Host;

/// <summary>`host info`: CUDA devices and the known nets; `host info --net NAME`: a net's layer table, parameter count and multiply-accumulates.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var args = new NetArguments();
        var batch = new Option<string?>("--batch") { Description = "With --net: also print the memory plan of a training step at this batch size (parameters, gradients, optimizer state, activation arena, and what keeping every tensor would cost)." };
        var eval = new Option<bool>("--eval") { Description = "With --batch: the plan of an evaluation executor (no gradients, no optimizer state)." };
        var freeze = new Option<string?>("--freeze") { Description = "With --batch: backbone plans the training step of `host train --freeze backbone` (no backbone gradients, optimizer state or backward passes); none (default) every layer trained." };
        var optimizer = new Option<string?>("--optimizer") { Description = "With --batch: sgd (momentum, the default) or adam, for the optimizer state." };
        var cmd = new Command("info", "Without --net: list CUDA devices (or say why none is usable) and the known nets. With --net: the layer table, parameters and multiply-accumulates; with --batch also the memory plan.");
        args.AddTo(cmd);
        cmd.Options.Add(batch);
        cmd.Options.Add(eval);
        cmd.Options.Add(optimizer);
        cmd.Options.Add(freeze);
        cmd.SetAction(r =>
        {
            if (r.GetValue(args.Net) is not { } name)
            {
                foreach (var line in DevicesInfo.Lines()) Console.WriteLine(line);
                Console.WriteLine();
                Console.WriteLine("Give --net NAME to describe a network:");
                foreach (var net in NetRegistry.All) Console.WriteLine($"  {net.Name,-16} {net.Description}");
                return 0;
            }
            int? planBatch = r.GetValue(batch) is { } batchText ? ParseBatch(batchText) : null;
            var (optimizerName, buffers) = Optimizer(r.GetValue(optimizer));
            bool frozen = TrainCommand.ParseFreeze(r.GetValue(freeze)) ?? false;
            if (planBatch is null && (r.GetValue(eval) || r.GetValue(optimizer) is not null || r.GetValue(freeze) is not null))
                throw new UsageException("--eval, --optimizer and --freeze describe the memory plan: give --batch N too");
            var graph = Build(name, args.Options(r), out var used);
            Console.WriteLine($"{graph.Name}: input {used.Input}, {used.Classes} classes, norm {NormName(used.Norm)}, width x{used.Width:0.####}");
            Console.Write(LayerTable.Format(graph));
            if (planBatch is { } b)
            {
                bool evaluation = r.GetValue(eval);
                if (frozen && evaluation) throw new UsageException("--freeze backbone describes training; --eval plans no gradients at all");
                if (frozen && !graph.HasBackbone) throw new UsageException($"--freeze backbone: {new NoBackboneException(graph.Name).Message}");
                var budget = MemoryBudget.For(graph, b, DataType.F32, new ExecutorOptions { InferenceOnly = evaluation, FreezeBackbone = frozen }, evaluation ? 0 : buffers);
                Console.Write(MemoryTable.Format(budget, b, optimizerName + (frozen ? ", backbone frozen" : "")));
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Builds the net, turning the registry's complaints into usage errors that name the option.</summary>
    public static Engine.Graph.Graph Build(string name, NetOptions options, out NetOptions resolved)
    {
        NetInfo net;
        try { net = NetRegistry.Find(name); }
        catch (KeyNotFoundException) { throw new UsageException($"--net '{name}': unknown net; known nets: {NetRegistry.KnownNames}"); }
        try
        {
            resolved = NetRegistry.Resolve(net, options);
            return net.Builder(net, resolved);
        }
        catch (ShapeException e) when (options.Input is { } input)
        {
            throw new UsageException($"--input {input} does not fit {net.Name}: {e.Message}");
        }
        catch (NetOptionsException e) { throw new UsageException(e.Message); }
    }

    private static int ParseBatch(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int b) && b >= 1
            ? b : throw new UsageException($"--batch '{text}': must be a positive integer");

    private static (string Name, int Buffers) Optimizer(string? name) => name switch
    {
        null or "sgd" => ("SGD with momentum", 1),
        "adam" => ("Adam", 2),
        _ => throw new UsageException($"--optimizer '{name}': expected sgd or adam"),
    };

    private static string NormName(Norm n) => n switch { Norm.Batch => "bn", Norm.SyncBatch => "syncbn", Norm.Group => "gn", _ => "none" };
}
