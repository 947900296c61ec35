using System.Text;

namespace Sentry.Tests.Infrastructure;

/// <summary>Assertions that the sandbox behaves like the host kernel for the same command.</summary>
public static class Behaviour
{
    /// <summary>
    /// Same exit status and byte-identical stdout; and, when <paramref name="compareStderr"/>,
    /// the same stderr once the sandbox's own "sentry: " diagnostics are dropped.
    /// </summary>
    public static void AssertSame(RunResult native, RunResult sandbox, bool compareStderr = true)
    {
        var problems = new StringBuilder();
        if (!native.Stdout.AsSpan().SequenceEqual(sandbox.Stdout))
            problems.AppendLine("stdout differs: " + Differences(native.StdoutText, sandbox.StdoutText));
        if (native.ExitCode != sandbox.ExitCode)
            problems.AppendLine($"exit status differs: native {native.ExitCode}, sandbox {sandbox.ExitCode}");
        if (compareStderr && native.StderrText != sandbox.StderrWithoutSentryLines)
            problems.AppendLine("stderr differs (ignoring 'sentry: ' lines): " +
                                Differences(native.StderrText, sandbox.StderrWithoutSentryLines));
        if (problems.Length > 0)
            Assert.Fail($"{problems}--- sandbox run ---\n{sandbox.Describe()}");
    }

    /// <summary>Runs <paramref name="program"/> natively and in the sandbox and asserts the same behaviour.</summary>
    public static (RunResult Native, RunResult Sandbox) AssertMatchesNative(
        string platform, string program, IReadOnlyList<string> args, RunOptions? options = null, bool compareStderr = true)
    {
        var native = SandboxRunner.Native(program, args, options);
        var sandbox = SandboxRunner.Sandbox(platform, program, args, options);
        AssertSame(native, sandbox, compareStderr);
        return (native, sandbox);
    }

    // "line N: native «…» vs sandbox «…»" for each differing line (up to a limit), so one
    // run of a syscall program shows every case that went wrong, not just the first.
    static string Differences(string expected, string actual)
    {
        const int MaxShown = 12;
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var shown = new List<string>();
        int differing = 0;
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var el = i < e.Length ? e[i] : "<missing>";
            var al = i < a.Length ? a[i] : "<missing>";
            if (el == al)
                continue;
            if (differing++ < MaxShown)
                shown.Add($"  line {i + 1}: native «{Clip(el)}» vs sandbox «{Clip(al)}»");
            // Once the line structure diverges, the rest is noise.
            if (e.Length != a.Length)
                break;
        }
        if (differing == 0)
            return $"(native {expected.Length} chars, sandbox {actual.Length} chars; the bytes differ but not as UTF-8 text)";
        var more = differing > MaxShown ? $"\n  ... and {differing - MaxShown} more differing lines" : "";
        return $"native {e.Length} lines, sandbox {a.Length} lines\n{string.Join('\n', shown)}{more}";
    }

    static string Clip(string s) => s.Length > 200 ? s[..200] + "…" : s;
}
