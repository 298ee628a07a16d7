using Engine.Graph;
using Buffer = Engine.Graph.Buffer;

namespace Engine.Training.Optimizers;

/// <summary>
/// Updates a graph's parameters in place from their gradients, on the backend that holds them.
/// Weight decay applies only to parameters that declare it (<see cref="ParamView.WeightDecay"/>);
/// the update runs once per contiguous range of parameters with the same setting. Its state
/// (velocity, Adam moments) is one backend buffer per kind, laid out like the trainable parameters
/// (like the gradients): a frozen backbone has none, and is neither updated nor decayed.
/// A step is two halves: <see cref="Prepare"/> on the host (count the step, write the scalars the
/// update kernels read from the backend's memory) and <see cref="Apply"/> (the updates, which a
/// captured training step replays).
/// </summary>
public abstract class Optimizer : IDisposable
{
    private const int MaxScalars = 2;
    private readonly (long Offset, long Count, bool Decay)[] _ranges;
    private readonly Buffer[] _state;
    private readonly Buffer _scalars;
    private double _learningRate;

    protected Optimizer(ParameterBuffers parameters, double weightDecay, params string[] stateNames)
    {
        Parameters = parameters;
        WeightDecay = weightDecay;
        StateNames = stateNames;
        _ranges = Ranges(parameters.Trainable);
        long count = Math.Max(1, parameters.TrainableCount);
        _state = stateNames.Select(_ => parameters.Backend.AllocateFloats(count)).ToArray();
        foreach (var b in _state) parameters.Backend.Zero(BufferSlice.Whole(b));
        _scalars = parameters.Backend.AllocateFloats(MaxScalars);
    }

    public ParameterBuffers Parameters { get; }
    public double WeightDecay { get; }
    /// <summary>Updates taken so far (Adam's bias correction uses it).</summary>
    public long Steps { get; set; }
    /// <summary>Names of the state buffers, e.g. "velocity" or "exp_avg", "exp_avg_sq".</summary>
    public IReadOnlyList<string> StateNames { get; }
    /// <summary>Short name used on the command line and in checkpoints ("sgd", "sgd-unit", "adam").</summary>
    public abstract string Kind { get; }
    /// <summary>One line for the run's log, naming the update form and every hyper-parameter.</summary>
    public abstract string Describe(double learningRate);

    public Buffer State(int i) => _state[i];

    /// <summary>Elements of state buffers per kind: one per trainable parameter.</summary>
    public long StateCount => Parameters.TrainableCount;

    /// <summary>State <paramref name="i"/> of the trainable parameter <paramref name="v"/>.</summary>
    public BufferSlice StateSlice(int i, ParamView v) => Parameters.GradSlice(v) is { } g ? g with { Buffer = _state[i] }
        : throw new ArgumentException($"{v.Name} is frozen: it has no optimizer state");

    /// <summary>One update with the given learning rate, from the gradients now in <see cref="ParameterBuffers.Grads"/>.</summary>
    public void Step(double learningRate)
    {
        Prepare(learningRate);
        Apply();
    }

    /// <summary>Counts the step and writes its scalars to the backend's memory, in stream order before the step's work.</summary>
    public void Prepare(double learningRate)
    {
        Steps++;
        _learningRate = learningRate;
        if (Parameters.Backend is IOptimizerKernels)
        {
            var values = DeviceScalars(learningRate);
            if (values.Length > MaxScalars) throw new InvalidOperationException($"{Kind}: {values.Length} device scalars, room for {MaxScalars}");
            Parameters.Backend.Upload(new BufferSlice(_scalars, 0, values.Length), values);
        }
    }

    /// <summary>The updates of the step <see cref="Prepare"/> set up; queues device work only (capturable).</summary>
    public void Apply()
    {
        var p = Parameters;
        var scalars = BufferSlice.Whole(_scalars);
        foreach (var (offset, count, decay) in _ranges)
        {
            // Gradients and state start at the first trainable parameter.
            var slice = (Buffer b) => new BufferSlice(b, offset - p.FrozenCount, count);
            Update(p.Backend, new BufferSlice(p.Values, offset, count), slice(p.Grads), _state.Select(slice).ToArray(), _learningRate, decay ? WeightDecay : 0, scalars);
        }
    }

    /// <summary>The floats the update kernels read per step (lr; Adam: its bias-corrected step size and sqrt(1 - b2^t)).</summary>
    protected virtual float[] DeviceScalars(double learningRate) => [(float)learningRate];

    /// <param name="scalars">The backend's copy of <see cref="DeviceScalars"/> for this step.</param>
    protected abstract void Update(Backend backend, BufferSlice values, BufferSlice grads, BufferSlice[] state, double lr, double weightDecay, BufferSlice scalars);

    private static (long, long, bool)[] Ranges(IEnumerable<ParamView> views)
    {
        var ranges = new List<(long Offset, long Count, bool Decay)>();
        foreach (var v in views)
        {
            if (v.Count == 0) continue;
            if (ranges.Count > 0 && ranges[^1].Decay == v.WeightDecay && ranges[^1].Offset + ranges[^1].Count == v.Offset)
                ranges[^1] = (ranges[^1].Offset, ranges[^1].Count + v.Count, v.WeightDecay);
            else ranges.Add((v.Offset, v.Count, v.WeightDecay));
        }
        return [.. ranges];
    }

    public void Dispose()
    {
        foreach (var b in _state) b.Dispose();
        _scalars.Dispose();
        GC.SuppressFinalize(this);
    }
}
