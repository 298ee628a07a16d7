namespace Engine.Ops;

/// <summary>The activation a fused op applies after its main map (<see cref="BatchNormActivation"/>).</summary>
public enum ActivationKind { Relu, Mish }
