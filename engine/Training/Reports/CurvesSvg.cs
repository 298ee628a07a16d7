using System.Globalization;
using System.Text;

namespace Engine.Training.Reports;

/// <summary>
/// The training curves as a hand-written SVG: loss (left) and error (right) against the epoch,
/// training and validation each, like the figure of the VoVNet seed.
/// </summary>
public static class CurvesSvg
{
    private const int PanelWidth = 440, PanelHeight = 300, Left = 60, Top = 40, PlotWidth = 350, PlotHeight = 210;
    private const string TrainColour = "#1f77b4", ValColour = "#ff7f0e";

    public static string Render(string title, IReadOnlyList<EpochRecord> rows)
    {
        var sb = new StringBuilder();
        sb.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{2 * PanelWidth}\" height=\"{PanelHeight + 30}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        sb.Append(Inv($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{PanelWidth}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{Escape(title)}</text>\n"));
        Panel(sb, 0, "loss", rows.Select(r => r.TrainLoss).ToList(), rows.Select(r => r.ValLoss ?? double.NaN).ToList(), rows);
        Panel(sb, PanelWidth, "error", rows.Select(r => r.TrainError).ToList(), rows.Select(r => r.ValError ?? double.NaN).ToList(), rows);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void Panel(StringBuilder sb, int x0, string label, List<double> train, List<double> val, IReadOnlyList<EpochRecord> rows)
    {
        var all = train.Concat(val).Where(double.IsFinite).ToList();
        double yMax = all.Count == 0 ? 1 : NiceCeiling(all.Max());
        int epochs = Math.Max(1, rows.Count == 0 ? 1 : rows.Max(r => r.Epoch));
        int ox = x0 + Left, oy = Top + PlotHeight;
        double X(int epoch) => ox + (epochs == 1 ? PlotWidth / 2.0 : (epoch - 1) * PlotWidth / (double)(epochs - 1));
        double Y(double v) => oy - Math.Clamp(v / yMax, 0, 1) * PlotHeight;

        sb.Append(Inv($"<g><text x=\"{ox + PlotWidth / 2}\" y=\"{Top - 8}\" text-anchor=\"middle\">{label}</text>\n"));
        for (int i = 0; i <= 5; i++)
        {
            double v = yMax * i / 5, y = Y(v);
            sb.Append(Inv($"<line x1=\"{ox}\" y1=\"{y:F1}\" x2=\"{ox + PlotWidth}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>"));
            sb.Append(Inv($"<text x=\"{ox - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{v:G3}</text>\n"));
        }
        int stepEvery = Math.Max(1, (int)Math.Ceiling(epochs / 10.0));
        for (int e = 1; e <= epochs; e += stepEvery)
            sb.Append(Inv($"<text x=\"{X(e):F1}\" y=\"{oy + 16}\" text-anchor=\"middle\">{e}</text>\n"));
        sb.Append(Inv($"<text x=\"{ox + PlotWidth / 2}\" y=\"{oy + 34}\" text-anchor=\"middle\">epoch</text>\n"));
        sb.Append(Inv($"<rect x=\"{ox}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#444\"/>\n"));
        Series(sb, rows, train, TrainColour, X, Y);
        Series(sb, rows, val, ValColour, X, Y);
        Legend(sb, ox + PlotWidth - 90, Top + 10, "train", TrainColour);
        if (val.Any(double.IsFinite)) Legend(sb, ox + PlotWidth - 90, Top + 26, "validation", ValColour);
        sb.Append("</g>\n");
    }

    private static void Series(StringBuilder sb, IReadOnlyList<EpochRecord> rows, List<double> values, string colour, Func<int, double> x, Func<double, double> y)
    {
        var points = rows.Zip(values).Where(p => double.IsFinite(p.Second)).Select(p => (X: x(p.First.Epoch), Y: y(p.Second))).ToList();
        if (points.Count == 0) return;
        sb.Append(Inv($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\""));
        sb.Append(string.Join(' ', points.Select(p => Inv($"{p.X:F1},{p.Y:F1}"))));
        sb.Append("\"/>\n");
        foreach (var p in points) sb.Append(Inv($"<circle cx=\"{p.X:F1}\" cy=\"{p.Y:F1}\" r=\"3\" fill=\"{colour}\"/>"));
        sb.Append('\n');
    }

    private static void Legend(StringBuilder sb, int x, int y, string text, string colour) =>
        sb.Append(Inv($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 18}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{x + 24}\" y=\"{y + 4}\">{text}</text>\n"));

    /// <summary>1, 2, 2.5 or 5 times a power of ten, at least <paramref name="v"/>.</summary>
    internal static double NiceCeiling(double v)
    {
        if (v <= 0) return 1;
        double p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1, 2, 2.5, 5, 10 }) if (m * p >= v) return m * p;
        return 10 * p;
    }

    internal static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
    internal static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
