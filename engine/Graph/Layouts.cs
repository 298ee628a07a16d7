using Engine.Tensors;

namespace Engine.Graph;

/// <summary>The names of <see cref="Layout"/> for `--layout` (engine/Graph/LAYOUT.md).</summary>
public static class Layouts
{
    /// <summary>The names <see cref="Parse"/> takes, for messages.</summary>
    public const string Names = "nchw or nhwc";

    public static string Name(this Layout layout) => layout.ToString().ToLowerInvariant();

    /// <summary>The layout a `--layout` value names, or null.</summary>
    public static Layout? Parse(string? text) => text?.ToLowerInvariant() switch
    {
        "nchw" => Layout.Nchw,
        "nhwc" => Layout.Nhwc,
        _ => null,
    };
}

/// <summary>A backend cannot store activations in the layout asked for; the message says why and what it can do.</summary>
public sealed class LayoutNotSupportedException(string message) : Exception(message);
