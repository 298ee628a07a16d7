using System.Text;
using Engine.Training.LrFind;
using static Engine.Training.Reports.CurvesSvg;

namespace Engine.Training.Reports;

/// <summary>
/// The range test's plot as SVG, in the style of <see cref="CurvesSvg"/>: the loss of each step
/// (thin) and its mean over windows of consecutive steps (thick, at each window's middle lr; what
/// <see cref="LrSuggestion"/> reads) against the lr on a log scale, with the suggested lr (steepest
/// descent) and a tenth of the lr at the lowest window marked as vertical lines.
/// </summary>
public static class LrFindSvg
{
    private const int Width = 640, Height = 400, Left = 70, Top = 40, PlotWidth = 540, PlotHeight = 300;
    private const string LossColour = "#9ecae1", SmoothColour = "#1f77b4", SteepColour = "#d62728", MinColour = "#2ca02c";

    public static string Render(string title, IReadOnlyList<LrRangePoint> points, LrSuggestion? suggestion)
    {
        var sb = new StringBuilder();
        sb.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        sb.Append(Inv($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{Width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{Escape(title)}</text>\n"));
        if (points.Count == 0) return sb.Append("</svg>\n").ToString();

        double lo = Math.Floor(Math.Log10(points.Min(p => p.LearningRate))), hi = Math.Ceiling(Math.Log10(points.Max(p => p.LearningRate)));
        if (hi <= lo) hi = lo + 1;
        int window = LossWindows.Size(points.Count);
        var means = points.Count < 2 ? points.Select(p => p.Loss).ToArray() : LossWindows.Of(points, window).Means;
        // The windowed curve up to its lowest point sets the scale; the divergence after it is clipped at the top.
        int bottom = Array.IndexOf(means, means.Min());
        double yMin = Math.Min(means.Min(), points.Min(p => p.Loss)), yMax = means.Take(bottom + 1).Max();
        yMin = Math.Max(0, yMin - 0.05 * (yMax - yMin));
        yMax = NiceCeiling(yMax);
        if (yMax <= yMin) yMax = yMin + 1;
        int ox = Left, oy = Top + PlotHeight;
        double X(double lr) => ox + (Math.Log10(lr) - lo) / (hi - lo) * PlotWidth;
        double Y(double v) => oy - Math.Clamp((v - yMin) / (yMax - yMin), 0, 1) * PlotHeight;

        for (int i = 0; i <= 5; i++)
        {
            double v = yMin + (yMax - yMin) * i / 5, y = Y(v);
            sb.Append(Inv($"<line x1=\"{ox}\" y1=\"{y:F1}\" x2=\"{ox + PlotWidth}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>"));
            sb.Append(Inv($"<text x=\"{ox - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{v:G3}</text>\n"));
        }
        for (double e = lo; e <= hi; e++)
        {
            double x = X(Math.Pow(10, e));
            sb.Append(Inv($"<line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{oy}\" stroke=\"#eee\"/>"));
            sb.Append(Inv($"<text x=\"{x:F1}\" y=\"{oy + 16}\" text-anchor=\"middle\">1e{e:F0}</text>\n"));
        }
        sb.Append(Inv($"<text x=\"{ox + PlotWidth / 2}\" y=\"{oy + 34}\" text-anchor=\"middle\">learning rate (log scale)</text>\n"));
        sb.Append(Inv($"<text x=\"16\" y=\"{Top + PlotHeight / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {Top + PlotHeight / 2})\">loss</text>\n"));
        sb.Append(Inv($"<rect x=\"{ox}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#444\"/>\n"));
        Line(sb, points.Select(p => (X(p.LearningRate), Y(p.Loss))), LossColour, 1);
        Line(sb, means.Select((m, i) => (X(points[Math.Min(points.Count - 1, i + window / 2)].LearningRate), Y(m))), SmoothColour, 2.5);
        int ly = Top + 14;
        Legend(sb, ox + PlotWidth - 200, ly, "loss per step", LossColour, false);
        Legend(sb, ox + PlotWidth - 200, ly += 16, $"mean of {window} steps", SmoothColour, false);
        if (suggestion is not null)
        {
            Marker(sb, X(suggestion.Steepest), oy);
            Legend(sb, ox + PlotWidth - 200, ly += 16, Inv($"steepest descent {suggestion.Steepest:G3}"), SteepColour, true);
            Marker(sb, X(suggestion.MinimumTenth), oy, MinColour);
            Legend(sb, ox + PlotWidth - 200, ly += 16, Inv($"lowest / 10 {suggestion.MinimumTenth:G3}"), MinColour, true);
        }
        return sb.Append("</svg>\n").ToString();
    }

    private static void Line(StringBuilder sb, IEnumerable<(double X, double Y)> points, string colour, double width)
    {
        sb.Append(Inv($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\" points=\""));
        sb.Append(string.Join(' ', points.Select(p => Inv($"{p.X:F1},{p.Y:F1}"))));
        sb.Append("\"/>\n");
    }

    private static void Marker(StringBuilder sb, double x, int bottom, string colour = SteepColour) =>
        sb.Append(Inv($"<line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{bottom}\" stroke=\"{colour}\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>\n"));

    private static void Legend(StringBuilder sb, int x, int y, string text, string colour, bool dashed) =>
        sb.Append(Inv($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 18}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"2\"{(dashed ? " stroke-dasharray=\"5,3\"" : "")}/><text x=\"{x + 24}\" y=\"{y + 4}\">{Escape(text)}</text>\n"));
}
