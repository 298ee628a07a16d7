using System.CommandLine;
using Engine.Nets;
using Engine.Ops;

namespace Host;

/// <summary>`host info`: CUDA devices and the known nets; `host info --net NAME`: a net's layer table, parameter count and multiply-accumulates.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var args = new NetArguments();
        var cmd = new Command("info", "Without --net: list CUDA devices (or say why none is usable) and the known nets. With --net: the layer table, parameters and multiply-accumulates.");
        args.AddTo(cmd);
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
            var graph = Build(name, args.Options(r), out var used);
            Console.WriteLine($"{graph.Name}: input {used.Input}, {used.Classes} classes, norm {NormName(used.Norm)}, width x{used.Width:0.####}");
            Console.Write(LayerTable.Format(graph));
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

    private static string NormName(Norm n) => n switch { Norm.Batch => "bn", Norm.Group => "gn", _ => "none" };
}
