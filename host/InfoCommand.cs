using System.CommandLine;
using Engine.Nets;
using Engine.Ops;

namespace Host;

/// <summary>`host info --net NAME`: a net's layer table, parameter count and multiply-accumulates.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var args = new NetArguments();
        var cmd = new Command("info", "Describe a network (layer table, parameters, multiply-accumulates).");
        args.AddTo(cmd);
        cmd.SetAction(r =>
        {
            if (r.GetValue(args.Net) is not { } name)
            {
                Console.WriteLine("Give --net NAME to describe a network:");
                foreach (var net in NetRegistry.All) Console.WriteLine($"  {net.Name,-16} {net.Description}");
                return 0;
            }
            var options = args.Options(r);
            Console.Write(LayerTable.Format(Build(name, options)));
            return 0;
        });
        return cmd;
    }

    /// <summary>Builds the net, turning the registry's complaints into usage errors that name the option.</summary>
    public static Engine.Graph.Graph Build(string name, NetOptions options)
    {
        NetInfo net;
        try { net = NetRegistry.Find(name); }
        catch (KeyNotFoundException) { throw new UsageException($"--net '{name}': unknown net; known nets: {NetRegistry.KnownNames}"); }
        try { return net.Builder(net, NetRegistry.Resolve(net, options)); }
        catch (ShapeException e) when (options.Input is { } input)
        {
            throw new UsageException($"--input {input} does not fit {net.Name}: {e.Message}");
        }
        catch (NetOptionsException e) { throw new UsageException(e.Message); }
    }
}
