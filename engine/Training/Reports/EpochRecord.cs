using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Engine.Training.Metrics;

namespace Engine.Training.Reports;

/// <summary>One row of metrics.csv: an epoch's training and validation results.</summary>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TrainError, double? ValLoss, double? ValError,
    double? ValTop5Error, double? ValPixelAccuracy, double? ValMeanIoU, double LearningRate, double Seconds)
{
    public static EpochRecord From(int epoch, MetricSummary train, MetricSummary? val, double lr, double seconds) =>
        new(epoch, train.Loss, train.Error, val?.Loss, val?.Error, val?.Top5Error, val?.PixelAccuracy, val?.MeanIoU, lr, seconds);

    public const string CsvHeader = "epoch,train_loss,train_error,val_loss,val_error,val_top5_error,val_pixel_accuracy,val_miou,lr,seconds";

    public string ToCsv() => string.Join(',', Epoch.ToString(CultureInfo.InvariantCulture), F(TrainLoss), F(TrainError), F(ValLoss),
        F(ValError), F(ValTop5Error), F(ValPixelAccuracy), F(ValMeanIoU), F(LearningRate), Seconds.ToString("F2", CultureInfo.InvariantCulture));

    public static string Csv(IEnumerable<EpochRecord> rows)
    {
        var sb = new StringBuilder(CsvHeader).Append('\n');
        foreach (var r in rows) sb.Append(r.ToCsv()).Append('\n');
        return sb.ToString();
    }

    private static string F(double? v) => v is double d && !double.IsNaN(d) ? d.ToString("G9", CultureInfo.InvariantCulture) : "";

    public JsonObject ToJson() => new()
    {
        ["epoch"] = Epoch, ["trainLoss"] = J(TrainLoss), ["trainError"] = J(TrainError), ["valLoss"] = J(ValLoss), ["valError"] = J(ValError),
        ["valTop5Error"] = J(ValTop5Error), ["valPixelAccuracy"] = J(ValPixelAccuracy), ["valMeanIoU"] = J(ValMeanIoU),
        ["lr"] = LearningRate, ["seconds"] = Seconds,
    };

    public static EpochRecord FromJson(JsonNode n) => new((int)n["epoch"]!, (double?)n["trainLoss"] ?? double.NaN, (double?)n["trainError"] ?? double.NaN,
        (double?)n["valLoss"], (double?)n["valError"], (double?)n["valTop5Error"], (double?)n["valPixelAccuracy"], (double?)n["valMeanIoU"],
        (double)n["lr"]!, (double)n["seconds"]!);

    private static JsonNode? J(double? v) => v is double d && double.IsFinite(d) ? JsonValue.Create(d) : null;
}
