using System.Diagnostics;

namespace Sentry.Compare;

/// <summary>Runs one command to completion: exit status, wall time, what it wrote on stderr.</summary>
public readonly record struct CommandResult(int ExitCode, TimeSpan Wall, string Stderr);

public static class CommandRun
{
    /// <summary>Runs <paramref name="argv"/> with stdout discarded; a run past <paramref name="timeout"/> is killed (exit -1).</summary>
    public static CommandResult Run(string[] argv, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var drainOut = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        var err = p.StandardError.ReadToEndAsync();
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
}
