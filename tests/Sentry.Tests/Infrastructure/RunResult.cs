using System.Text;

namespace Sentry.Tests.Infrastructure;

/// <summary>
/// What one process run produced: exit status and the raw bytes of stdout/stderr.
/// <paramref name="Problem"/> is set when the run itself went wrong (timeout, pipes left open).
/// </summary>
public sealed record RunResult(string Command, int ExitCode, byte[] Stdout, byte[] Stderr, int Pid, string? Problem = null)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string StderrText => Encoding.UTF8.GetString(Stderr);

    /// <summary>
    /// Stderr without the sandbox's own diagnostics ("sentry: unsupported syscall ...",
    /// platform notes), which by contract all start with "sentry: ".
    /// </summary>
    public string StderrWithoutSentryLines =>
        string.Concat(SplitLinesKeepingEnds(StderrText).Where(l => !l.StartsWith("sentry: ", StringComparison.Ordinal)));

    /// <summary>A short description for assertion messages: command, status and the tail of stderr.</summary>
    public string Describe()
    {
        var err = StderrText;
        if (err.Length > 3000)
            err = "..." + err[^3000..];
        return $"command: {Command}\nexit status: {ExitCode}\nstderr:\n{err}";
    }

    internal static IEnumerable<string> SplitLinesKeepingEnds(string text)
    {
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            yield return text[start..end];
            start = end;
        }
    }
}
