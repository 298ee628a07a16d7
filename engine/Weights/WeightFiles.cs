namespace Engine.Weights;

/// <summary>Opens a weight file by what its first bytes say it is.</summary>
public static class WeightFiles
{
    /// <summary>The one-line conversion for files this reader does not take.</summary>
    public const string ResaveHint = "re-save it in the zip format: python3 -c \"import torch,sys; torch.save(torch.load(sys.argv[1], map_location='cpu'), sys.argv[2])\" IN OUT.pth";

    /// <summary>safetensors, or a PyTorch zip (.pth/.pt); the legacy (pre-1.6) PyTorch format is refused with the conversion.</summary>
    public static WeightReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        Span<byte> head = stackalloc byte[4];
        int n;
        using (var f = File.OpenRead(path)) n = f.Read(head);
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return new TorchZipReader(path);
        if (n >= 2 && head[0] == 0x80 && head[1] <= 5)
            throw new InvalidDataException($"{path}: a PyTorch file in the legacy (pre-1.6, not zip) format, which is not read here; {ResaveHint}");
        if (System.IO.Path.GetExtension(path).ToLowerInvariant() is ".pth" or ".pt" or ".bin" or ".ckpt")
            throw new InvalidDataException($"{path}: not a PyTorch file of torch.save's zip format (nor safetensors); {ResaveHint}");
        return new SafeTensorsReader(path);
    }
}
