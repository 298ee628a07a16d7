using System.Runtime.CompilerServices;

namespace Engine.Cuda;

/// <summary>
/// A kernel's arguments for cuLaunchKernel, held on the stack without boxing: each argument's
/// value is copied into its own 8-byte-aligned run of slots, and the launch passes an array of
/// pointers, element i pointing at argument i's bytes. Add arguments in the kernel's parameter
/// order: device pointers as <see cref="DevicePtr"/> (or ulong), scalars as int/long/float, and
/// small structs by value.
/// </summary>
public unsafe ref struct KernelArgs
{
    public const int MaxSlots = 32;
    public const int MaxArgs = 24;

    private Slots _slots;
    private Starts _starts;
    private int _usedSlots;
    private int _count;

    public readonly int Count => _count;

    public void Add<T>(T value) where T : unmanaged
    {
        int size = sizeof(T);
        int slots = (size + 7) / 8;
        if (_count >= MaxArgs) throw new InvalidOperationException($"a kernel launch takes at most {MaxArgs} arguments");
        if (_usedSlots + slots > MaxSlots) throw new InvalidOperationException($"kernel arguments exceed {MaxSlots * 8} bytes");
        Unsafe.WriteUnaligned(ref Unsafe.As<ulong, byte>(ref _slots[_usedSlots]), value);
        _starts[_count++] = (byte)_usedSlots;
        _usedSlots += slots;
    }

    public void Add(DevicePtr p) => Add(p.Address);

    /// <summary>
    /// Fills <paramref name="pointers"/> (Count entries) with the address of each argument. The
    /// addresses point into this struct, so it must stay where it is (on the stack) until the
    /// launch has returned.
    /// </summary>
    internal void FillPointers(void** pointers)
    {
        var first = (ulong*)Unsafe.AsPointer(ref _slots[0]);
        for (int i = 0; i < _count; i++) pointers[i] = first + _starts[i];
    }

    [InlineArray(MaxSlots)]
    private struct Slots { private ulong _element; }

    [InlineArray(MaxArgs)]
    private struct Starts { private byte _element; }
}
