namespace Engine.Training.LrFind;

/// <summary>
/// fastai's smoothed loss: an exponential moving average, avg = beta * avg + (1 - beta) * loss,
/// debiased by 1 - beta^n so that the first values are not pulled towards zero.
/// </summary>
public sealed class LossSmoother(double beta = LossSmoother.DefaultBeta)
{
    public const double DefaultBeta = 0.98;
    private double _average;
    private int _count;

    public double Add(double loss)
    {
        _count++;
        _average = beta * _average + (1 - beta) * loss;
        return _average / (1 - Math.Pow(beta, _count));
    }
}
