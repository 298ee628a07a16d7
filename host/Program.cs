using System.CommandLine;
using Host;

var root = new RootCommand("host: train, evaluate and inspect convolutional networks (VoVNet, VGG, SegNet) on the CPU or a CUDA GPU.");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(LrFindCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
return CliErrors.Run(root, args);
