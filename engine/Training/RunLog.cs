using System.Globalization;

namespace Engine.Training;

/// <summary>The run's log file (train.log, appended across resumes), echoed to a console writer.</summary>
public sealed class RunLog : IDisposable
{
    private readonly StreamWriter _file;
    private readonly TextWriter? _echo;
    private readonly Lock _lock = new();

    public RunLog(string path, TextWriter? echo)
    {
        _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        _echo = echo;
    }

    /// <summary>A line for the file and the console.</summary>
    public void Info(string message) => Write(message, echo: true);

    /// <summary>A line for the file only (per-file details that would flood the console).</summary>
    public void Detail(string message) => Write(message, echo: false);

    private void Write(string message, bool echo)
    {
        lock (_lock)
        {
            _file.WriteLine($"{DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}  {message}");
            if (echo) _echo?.WriteLine(message);
        }
    }

    public void Dispose() => _file.Dispose();
}
