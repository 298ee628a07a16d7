using System.Runtime.CompilerServices;
using Engine.Data;
using Engine.Graph;
using Engine.Training.Optimizers;

namespace Engine.Training;

/// <summary>
/// Runs training steps in two halves. The host half writes what changes from step to step into
/// fixed device memory, in stream order: the step counter (dropout masks), the batch (the
/// executor's input slices) and the optimizer's scalars (learning rate, bias corrections). The
/// device half (forward, zeroed gradients, backward, the update and the metric kernels) runs
/// eagerly or, with capture on and a backend that can record it (<see cref="IStepCapture"/>: CUDA
/// graphs), is captured after <see cref="WarmupSteps"/> eager steps (lazy set-up done: descriptors,
/// cuDNN's algorithm choice, workspaces) and replayed with one launch per step. Each executor (each
/// batch shape, e.g. a short last batch's) warms up and is captured on its own. The loss and the
/// metric counts are read after the step. When a step cannot be captured, every step runs eagerly
/// and <see cref="Reason"/> says why (logged once).
/// </summary>
public sealed class StepRunner(Optimizer optimizer, Value loss, bool capture, Action<string>? log = null) : IDisposable
{
    private sealed class PerExecutor
    {
        public IStepGraph? Graph;
        public int EagerSteps;
    }

    private readonly ConditionalWeakTable<Executor, PerExecutor> _executors = [];
    private readonly List<PerExecutor> _all = [];
    private Executor? _exec;
    private Action? _metrics;

    /// <summary>Eager steps of an executor before its capture.</summary>
    public int WarmupSteps { get; init; } = 2;
    /// <summary>Why steps run eagerly although capture was asked for (null: not decided, or capturing).</summary>
    public string? Reason { get; private set; }
    /// <summary>Captures so far (one per executor, more when freed memory made a graph stale).</summary>
    public int Captures { get; private set; }
    /// <summary>Steps that ran as a graph replay.</summary>
    public long Replays { get; private set; }
    /// <summary>Whether the last step was a replay (its metric kernels ran without the callback being called).</summary>
    public bool LastStepReplayed { get; private set; }

    /// <summary>One step of <paramref name="exec"/> on <paramref name="batch"/>; returns the mean loss.</summary>
    /// <param name="queueMetrics">Queues the metric kernels on the step's logits (device work only); part of the captured step.</param>
    public double Run(Executor exec, Batch batch, long step, double lr, Action? queueMetrics = null)
    {
        exec.Step = step;
        exec.SetInput("image", batch.Images.Span, batch.Layout);
        exec.SetInput("label", batch.Labels.Span);
        optimizer.Prepare(lr);
        _exec = exec;
        _metrics = queueMetrics;
        LastStepReplayed = Replay(exec, step);
        if (!LastStepReplayed) DeviceHalf();
        return exec.Read(loss)[0];
    }

    private void DeviceHalf()
    {
        var exec = _exec!;
        exec.Forward(training: true);
        exec.Parameters.ZeroGrads();
        exec.Backward();
        optimizer.Apply();
        _metrics?.Invoke();
    }

    /// <summary>Launches the executor's graph, capturing it first when due; false: run the step eagerly.</summary>
    private bool Replay(Executor exec, long step)
    {
        if (!capture || Reason is not null) return false;
        var state = _executors.GetValue(exec, _ => { var s = new PerExecutor(); _all.Add(s); return s; });
        if (state.Graph is null && state.EagerSteps < WarmupSteps)
        {
            state.EagerSteps++;
            return false;
        }
        for (int attempt = 0; attempt < 2; attempt++)
        {
            if (state.Graph is null && !Capture(exec, state, step)) return false;
            if (state.Graph!.TryLaunch())
            {
                Replays++;
                return true;
            }
            state.Graph.Dispose();
            state.Graph = null;
        }
        Off($"the graph went stale right after its capture at step {step + 1}");
        return false;
    }

    private bool Capture(Executor exec, PerExecutor state, long step)
    {
        if (exec.Backend is not IStepCapture backend)
        {
            Off($"the {exec.Backend.Name} backend cannot capture a step");
            return false;
        }
        state.Graph = backend.TryCapture(DeviceHalf, out var reason);
        if (state.Graph is null)
        {
            Off(reason);
            return false;
        }
        if (++Captures == 1) log?.Invoke($"cuda graph: step {step + 1} captured (forward, backward, update, metrics); later steps replay it");
        return true;
    }

    private void Off(string reason)
    {
        Reason = reason;
        log?.Invoke($"cuda graph: off, steps run eagerly: {reason}");
    }

    public void Dispose()
    {
        foreach (var s in _all)
        {
            s.Graph?.Dispose();
            s.Graph = null;
        }
    }
}
