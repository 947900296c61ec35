using System.Text;
using System.Text.Json;

namespace Sentry.Host.Oci;

/// <summary>
/// Sentry's log as container engines read a runtime's (--log FILE, --log-format text|json): one
/// record per line, "time=... level=... msg=..." or {"level":..,"msg":..,"time":..}. Messages
/// written to it as lines (the kernel's notes) become info records.
/// </summary>
public sealed class OciLog : TextWriter
{
    readonly string? _file;
    readonly bool _json;
    readonly StringBuilder _line = new();

    public OciLog(string? file, bool json) { _file = file; _json = json; }

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value == '\n') { Record("info", _line.ToString()); _line.Clear(); }
        else _line.Append(value);
    }

    /// <summary>Appends one record; the log is best effort (a log that cannot be written never stops a container).</summary>
    public void Record(string level, string message)
    {
        if (_file == null) return;
        string time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ");
        string line;
        if (_json)
        {
            var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("level", level);
                w.WriteString("msg", message);
                w.WriteString("time", time);
                w.WriteEndObject();
            }
            line = Encoding.UTF8.GetString(buffer.ToArray());
        }
        else line = $"time=\"{time}\" level={level} msg=\"{message.Replace("\"", "\\\"")}\"";
        try
        {
            lock (this) File.AppendAllText(_file, line + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
