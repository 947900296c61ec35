namespace Sentry.Compare;

/// <summary>Median and spread (25th to 75th percentile) of repeated measurements.</summary>
public readonly record struct Stats(double Median, double P25, double P75, int Count)
{
    public static Stats Of(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        if (v.Length == 0) return new Stats(double.NaN, double.NaN, double.NaN, 0);
        return new Stats(Quantile(v, 0.5), Quantile(v, 0.25), Quantile(v, 0.75), v.Length);
    }

    static double Quantile(double[] sorted, double q)
    {
        double pos = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
