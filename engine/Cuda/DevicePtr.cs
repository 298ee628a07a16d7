namespace Engine.Cuda;

/// <summary>A device address (CUdeviceptr); typed so that it cannot be mixed up with a count in kernel arguments.</summary>
public readonly record struct DevicePtr(ulong Address)
{
    public static readonly DevicePtr Null = new(0);
    public bool IsNull => Address == 0;
    /// <summary>The address <paramref name="bytes"/> further on.</summary>
    public DevicePtr Offset(long bytes) => new(Address + (ulong)bytes);
    public override string ToString() => $"0x{Address:x}";
}
