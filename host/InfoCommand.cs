using System.CommandLine;

namespace Host;

/// <summary>`host info`: a net's layer table, parameter count and multiply-accumulates.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var net = new Option<string?>("--net") { Description = "Network to describe, e.g. vovnet57, vgg16, segnet." };
        var cmd = new Command("info", "Describe a network (layer table, parameters, multiply-accumulates).") { net };
        cmd.SetAction(r =>
        {
            Console.WriteLine(r.GetValue(net) is { } n ? $"net {n}: not implemented yet" : "no net given");
            return 0;
        });
        return cmd;
    }
}
