// Times the training data loader: JPEG decode + the vovnet recipe (random square crop of 0.875 of
// the shorter side, mirror, resize to SIZE, colour jitter, /255) + batching, images/s over whole
// batches with --threads loading threads. tools/reference/loader_bench.py times torchvision's
// DataLoader on the same files the same way; tools/bench/loader.sh runs both side by side.
// Usage: loader --data DIR [--size 224] [--batch 64] [--threads N] [--batches K]
using System.Diagnostics;
using System.Globalization;
using Engine.Data.Datasets;
using Engine.Data.Transforms;
using Engine.Training;

string? data = null;
int size = 224, batch = 64, threads = Environment.ProcessorCount, batches = 10;
for (int i = 0; i < args.Length; i++)
{
    string flag = args[i];
    string Next() => i + 1 < args.Length ? args[++i] : throw Fail($"{flag} needs a value");
    int Positive() => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw Fail($"{flag}: expected a positive whole number");
    switch (flag)
    {
        case "--data": data = Next(); break;
        case "--size": size = Positive(); break;
        case "--batch": batch = Positive(); break;
        case "--threads": threads = Positive(); break;
        case "--batches": batches = Positive(); break;
        default: throw Fail($"unknown argument '{flag}'\nusage: loader --data DIR [--size 224] [--batch 64] [--threads N] [--batches K]");
    }
}
if (data is null || !Directory.Exists(data)) throw Fail($"--data {data ?? "(missing)"}: expected a folder of class sub-folders of JPEGs");

var dataset = ImageFolderDataset.Scan(data, ImageRecipe.ForName("vovnet", size), 3);
if (dataset.Count < (batches + 1) * batch)
    throw Fail($"--data {data}: {dataset.Count} images, fewer than the {(batches + 1) * batch} of one warm-up batch and {batches} timed batches of {batch}");
using var source = new LoaderBatches(dataset, batch, train: true, seed: 1, threads);
long start = 0;
int timed = 0, seen = 0;
double checksum = 0;
foreach (var b in source.Epoch(0))
{
    // The first batch pays for starting the threads: the clock starts after it.
    if (seen++ == 0) { start = Stopwatch.GetTimestamp(); continue; }
    checksum += b.Images.Span[0];
    timed += b.Count;
    if (seen > batches) break;
}
double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
double rate = timed / seconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"engine loader: {timed} images in {seconds:F2} s with {threads} thread(s): {rate:F1} images/s, {rate / threads:F1} per thread ({size}x{size}, batch {batch}, checksum {checksum:F3})"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT engine {rate:F1}"));
return 0;

static Exception Fail(string message)
{
    Console.Error.WriteLine($"loader: {message}");
    Environment.Exit(2);
    return new InvalidOperationException();
}
