using System.CommandLine;
using Host;

var root = new RootCommand("host: train, evaluate and inspect convolutional networks (VoVNet, VGG, SegNet) on the CPU or a CUDA GPU.");
root.Subcommands.Add(InfoCommand.Create());
return CliErrors.Run(root, args);
