namespace Engine.Training.Metrics;

/// <summary>Ranking of one score row, ties broken by the lower class index (so top-1 is the first argmax).</summary>
public static class TopK
{
    /// <summary>0-based rank of <paramref name="label"/> among <paramref name="scores"/>; a NaN score ranks last.</summary>
    public static int RankOf(ReadOnlySpan<float> scores, int label)
    {
        float s = scores[label];
        if (float.IsNaN(s)) return scores.Length;
        int rank = 0;
        for (int k = 0; k < scores.Length; k++)
            if (scores[k] > s || (scores[k] == s && k < label)) rank++;
        return rank;
    }

    /// <summary>Index of the largest score (the first of equal ones; NaN never wins; 0 when all are NaN), as kernels/reduce.cu's argmax.</summary>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int k = 1; k < scores.Length; k++)
            if (scores[k] > scores[best] || (float.IsNaN(scores[best]) && !float.IsNaN(scores[k]))) best = k;
        return best;
    }

    /// <summary>The <paramref name="k"/> best classes, best first, with their scores.</summary>
    public static (int Class, float Score)[] Best(ReadOnlySpan<float> scores, int k)
    {
        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var copy = scores.ToArray();
        Array.Sort(order, (a, b) => copy[b].CompareTo(copy[a]) is var c && c != 0 ? c : a.CompareTo(b));
        return order.Take(Math.Min(k, order.Length)).Select(i => (i, copy[i])).ToArray();
    }
}
