namespace Engine.Data.Datasets;

/// <summary>A dataset cannot be used at all (missing folder, no files, no readable example); the message says which and why.</summary>
public sealed class DatasetException(string message, Exception? inner = null) : Exception(message, inner);
