using System.Text.Json.Nodes;
using Engine.Graph;
using Engine.Training.Optimizers;

namespace Engine.Training;

/// <summary>How to train: length, optimizer, schedule, checkpoints, and where the run's files go.</summary>
public sealed class TrainerOptions
{
    /// <summary>The run folder: logs, metrics, curves, checkpoints.</summary>
    public required string RunDir { get; init; }
    public required Func<ParameterBuffers, Optimizer> CreateOptimizer { get; init; }
    public string NetName { get; init; } = "net";
    public int Epochs { get; init; } = 1;
    /// <summary>Seeds init, shuffling, augmentation and dropout.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>The base (constant, plateau, warm-up) or peak (cyclical) learning rate.</summary>
    public double LearningRate { get; init; } = 0.01;
    /// <summary>A <see cref="Schedules.ScheduleSpec"/> text, e.g. "triangular2:min=1e-4,half=10".</summary>
    public string Schedule { get; init; } = "constant";
    /// <summary>A checkpoint after every this many steps (0: only at the end of each epoch and of the run).</summary>
    public long CheckpointEvery { get; init; } = 500;
    /// <summary>Continue the run in <see cref="RunDir"/> from its checkpoint.</summary>
    public bool Resume { get; init; }
    /// <summary>A safetensors file whose matching tensors replace the initial weights.</summary>
    public string? InitFrom { get; init; }

    /// <summary>With <see cref="InitFrom"/>: any tensor that does not match (a head of another class count aside) is an error.</summary>
    public bool StrictInit { get; init; }
    /// <summary>
    /// Hold the net's backbone fixed (<see cref="Graph.Graph.HasBackbone"/>): no gradients, no optimizer
    /// state, batch norm in evaluation mode there. A resumed run must keep the setting it started with.
    /// </summary>
    public bool FreezeBackbone { get; init; }
    /// <summary>Stop (with a resumable checkpoint) once this many steps are done in total.</summary>
    public long? StopAfterSteps { get; init; }
    /// <summary>Segmentation: validation examples drawn as input | prediction | truth after each epoch.</summary>
    public int PredictionImages { get; init; } = 4;
    /// <summary>Lines that open the run's log (and console): e.g. what settings were chosen and why.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
    /// <summary>
    /// Data-parallel training: the ranks this run is one of (every rank runs the same trainer; rank 0
    /// alone writes the run folder). <see cref="Distributed.SingleProcess"/> for a run on its own.
    /// </summary>
    public Distributed.ICollectives Group { get; init; } = Distributed.SingleProcess.Instance;
    /// <summary>The same ranks' collectives on the backend's own buffers (NCCL between GPUs); null: through host memory.</summary>
    public IDeviceCollectives? DeviceGroup { get; init; }
    /// <summary>Lines every rank must agree on before training starts (net, data size, ...), checked when there is more than one rank.</summary>
    public IReadOnlyList<(string Fact, string Value)> Agreement { get; init; } = [];
    /// <summary>
    /// Capture the training step as a CUDA graph after warm-up and replay it (on a backend that can,
    /// <see cref="IStepCapture"/>; data-parallel runs stay eager). A step that cannot be captured runs
    /// eagerly with the reason in the log.
    /// </summary>
    public bool CudaGraph { get; init; } = true;
    /// <summary>The settings as given, stored with every checkpoint.</summary>
    public JsonObject Config { get; init; } = [];
}

/// <summary>Progress after one step, for a progress line.</summary>
public readonly record struct StepProgress(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, long Step, long TotalSteps,
    double Loss, double AverageLoss, double LearningRate, double ImagesPerSecond, TimeSpan Eta);

/// <summary>Completed: every epoch done. StepLimit: stopped as asked at <see cref="TrainerOptions.StopAfterSteps"/>. Interrupted: cancelled. Both leave a resumable checkpoint.</summary>
public enum TrainStatus { Completed, Interrupted, StepLimit }

public sealed record TrainOutcome(TrainStatus Status, long Steps, IReadOnlyList<Reports.EpochRecord> History, string RunDir);

/// <summary>The loss became NaN or infinite; the run stops without overwriting its last good checkpoint.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>A new run was asked for in a folder that already holds one (a checkpoint).</summary>
public sealed class RunExistsException(string runDir)
    : InvalidOperationException($"{runDir} already holds a run ({Checkpoints.Checkpoint.RecordName})")
{
    public string RunDir { get; } = runDir;
}
