namespace Engine.Ops;

/// <summary>Fluent layer helpers (<c>b.Conv2d(x, 64, 3)</c>); each op file adds its own part.</summary>
public static partial class Layers;
