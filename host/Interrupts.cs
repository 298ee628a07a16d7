using System.Runtime.InteropServices;

namespace Host;

/// <summary>
/// Turns the first Ctrl-C (SIGINT) or SIGTERM into a cancellation the training loop sees after
/// its current step (it then writes a checkpoint and returns); a second Ctrl-C ends the process at once.
/// On Windows Console.CancelKeyPress delivers Ctrl-C and Ctrl-Break the same way. SIGTERM is
/// registered where the runtime supports it; a console close or shutdown on Windows ends the
/// process within seconds whatever the handler does, and the atomic checkpoint writes then leave
/// the previous checkpoint whole.
/// </summary>
public sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration? _term;
    private readonly TextWriter _err;

    public Interrupts(TextWriter err)
    {
        _err = err;
        Console.CancelKeyPress += OnCancelKey;
        try { _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Request("SIGTERM"); }); }
        catch (PlatformNotSupportedException) { }
    }

    public CancellationToken Token => _cts.Token;

    private void OnCancelKey(object? sender, ConsoleCancelEventArgs e)
    {
        if (_cts.IsCancellationRequested) return;  // second Ctrl-C: let the runtime end the process
        e.Cancel = true;
        Request("Ctrl-C");
    }

    private void Request(string what)
    {
        if (_cts.IsCancellationRequested) return;
        _err.WriteLine($"\n{what}: stopping after this step and writing a checkpoint (press Ctrl-C again to quit at once)");
        _cts.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKey;
        _term?.Dispose();
        _cts.Dispose();
    }
}
