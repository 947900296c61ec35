using System.Globalization;
using System.Text;

namespace Sentry.Compare;

/// <summary>
/// A horizontal grouped bar chart as standalone SVG: one group per workload, one bar per runner.
/// Each group has its own scale (its longest bar spans the width), since the workloads differ by
/// orders of magnitude; every bar carries its value as text.
/// </summary>
public static class BarChart
{
    static readonly string[] Colours = ["#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#9467bd"];

    public static string Render(string title, string unit, IReadOnlyList<string> runners, IReadOnlyList<(string Group, double?[] Values)> groups)
    {
        const int labelW = 170, barMax = 420, barH = 16, gap = 4, groupGap = 18, top = 50;
        int width = labelW + barMax + 110;
        int height = top + groups.Count * (runners.Count * (barH + gap) + groupGap) + 10;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine(inv, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        sb.AppendLine(inv, $"<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>");
        for (int i = 0; i < runners.Count; i++)
        {
            int x = 10 + i * 150;
            sb.AppendLine(inv, $"<rect x=\"{x}\" y=\"30\" width=\"10\" height=\"10\" fill=\"{Colours[i % Colours.Length]}\"/>");
            sb.AppendLine(inv, $"<text x=\"{x + 14}\" y=\"39\">{Escape(runners[i])}</text>");
        }
        int y = top;
        foreach (var (group, values) in groups)
        {
            double max = values.Where(v => v.HasValue).Select(v => v!.Value).DefaultIfEmpty(1).Max();
            sb.AppendLine(inv, $"<text x=\"10\" y=\"{y + barH}\" font-weight=\"bold\">{Escape(group)}</text>");
            for (int i = 0; i < runners.Count; i++)
            {
                int by = y + i * (barH + gap);
                if (values[i] is double v)
                {
                    double w = max > 0 ? Math.Max(1, v / max * barMax) : 1;
                    sb.AppendLine(inv, $"<rect x=\"{labelW}\" y=\"{by}\" width=\"{w:F1}\" height=\"{barH}\" fill=\"{Colours[i % Colours.Length]}\"/>");
                    sb.AppendLine(inv, $"<text x=\"{labelW + w + 4:F1}\" y=\"{by + barH - 4}\">{v.ToString(v < 10 ? "F2" : "F1", inv)} {unit}</text>");
                }
                else
                    sb.AppendLine(inv, $"<text x=\"{labelW}\" y=\"{by + barH - 4}\" fill=\"#999\">not measured</text>");
            }
            y += runners.Count * (barH + gap) + groupGap;
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
