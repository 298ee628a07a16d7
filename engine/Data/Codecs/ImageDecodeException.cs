namespace Engine.Data.Codecs;

/// <summary>The bytes are not a readable image (truncated, corrupt, empty, another format); the message says why.</summary>
public sealed class ImageDecodeException(string reason) : Exception(reason);

/// <summary>
/// A native image library is missing or unusable. Unlike <see cref="ImageDecodeException"/> this is
/// fatal for a run (every image would fail), so loaders do not skip it.
/// </summary>
public sealed class ImageLibraryException(string message, Exception? inner = null) : Exception(message, inner);
