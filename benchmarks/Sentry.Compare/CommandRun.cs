using System.Diagnostics;

namespace Sentry.Compare;

/// <summary>Runs one command to completion: exit status, wall time, what it wrote on stderr.</summary>
public readonly record struct CommandResult(int ExitCode, TimeSpan Wall, string Stderr);

public static class CommandRun
{
    /// <summary>Runs <paramref name="argv"/> with stdout discarded; a run past <paramref name="timeout"/> is killed (exit -1).</summary>
    public static CommandResult Run(string[] argv, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        using var p = Start(argv, out var drainOut, out var err);
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return new CommandResult(-1, sw.Elapsed, "timed out");
        }
        var wall = sw.Elapsed;
        drainOut.Wait();
        return new CommandResult(p.ExitCode, wall, err.Result);
    }

    /// <summary>Starts <paramref name="argv"/> with empty stdin, stdout drained to nowhere and stderr collected.</summary>
    public static Process Start(string[] argv, out Task drainOut, out Task<string> stderr)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        drainOut = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        stderr = p.StandardError.ReadToEndAsync();
        return p;
    }
}
