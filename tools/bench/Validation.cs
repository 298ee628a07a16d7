namespace Bench;

/// <summary>
/// Compares a GPU result with the CPU reference op: |gpu - cpu| &lt;= atol + rtol * |cpu|
/// (NaN only matches NaN), printing the first 10 mismatches and stopping there.
/// </summary>
internal static class Validation
{
    public static bool Compare(string what, ReadOnlySpan<float> gpu, ReadOnlySpan<float> cpu, double atol, double rtol)
    {
        if (gpu.Length != cpu.Length)
        {
            Console.WriteLine($"    MISMATCH {what}: {gpu.Length} GPU values vs {cpu.Length} CPU values");
            return false;
        }
        int bad = 0;
        double worst = 0;
        for (int i = 0; i < gpu.Length; i++)
        {
            double g = gpu[i], c = cpu[i];
            if (double.IsNaN(g) && double.IsNaN(c)) continue;
            double err = Math.Abs(g - c);
            if (err <= atol + rtol * Math.Abs(c)) { worst = Math.Max(worst, err); continue; }
            if (bad++ == 0) Console.WriteLine($"    MISMATCH {what}:");
            Console.WriteLine($"      [{i}] gpu {g:R} cpu {c:R}");
            if (bad == 10) break;
        }
        if (bad == 0) Console.WriteLine($"    ok {what} ({gpu.Length} values, max abs err {worst:E2})");
        return bad == 0;
    }

    public static bool Compare(string what, ReadOnlySpan<int> gpu, ReadOnlySpan<int> cpu)
    {
        var g = new float[gpu.Length];
        var c = new float[cpu.Length];
        for (int i = 0; i < g.Length; i++) g[i] = gpu[i];
        for (int i = 0; i < c.Length; i++) c[i] = cpu[i];
        return Compare(what, g, c, 0, 0);
    }
}
