using Engine.Data.Datasets;
using Engine.Nets;

namespace Host;

/// <summary>Turns the failures of train/eval/predict that are the user's to fix into one-line errors.</summary>
internal static class CommandGuard
{
    public const int DeviceUnavailable = ExitCodes.DeviceUnavailable;

    public static int Run(Func<int> body)
    {
        try { return body(); }
        catch (DeviceUnavailableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return DeviceUnavailable;
        }
        catch (Engine.Cuda.CudaUnavailableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}; run on the CPU with --device cpu");
            return DeviceUnavailable;
        }
        catch (DatasetException e) { throw new UsageException(e.Message); }
        catch (NetOptionsException e) { throw new UsageException(e.Message); }
    }
}
