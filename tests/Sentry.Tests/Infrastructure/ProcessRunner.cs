using System.Diagnostics;

namespace Sentry.Tests.Infrastructure;

/// <summary>
/// Runs one host process with captured stdout/stderr bytes, an empty stdin and a hard
/// timeout. A run that times out is killed (with its process tree) and fails the test,
/// so a hung sandbox can never stall the suite.
/// </summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    // After the main process exits, its pipes should close at once. If something (for
    // example a leaked stub process) keeps them open we stop waiting after this grace time.
    static readonly TimeSpan PipeDrainGrace = TimeSpan.FromSeconds(10);

    /// <summary>Runs the process; a timeout or pipes held open after exit fail the test.</summary>
    public static RunResult Run(
        string fileName,
        IEnumerable<string> args,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null,
        byte[]? stdin = null)
    {
        var r = TryRun(fileName, args, workingDirectory, environment, timeout, stdin);
        if (r.Problem != null)
            Assert.Fail(r.Problem);
        return r;
    }

    /// <summary>Like <see cref="Run"/> but reports a timeout in <see cref="RunResult.Problem"/> instead of failing.</summary>
    public static RunResult TryRun(
        string fileName,
        IEnumerable<string> args,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null,
        byte[]? stdin = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (workingDirectory != null)
            psi.WorkingDirectory = workingDirectory;
        if (environment != null)
            foreach (var (k, v) in environment)
                psi.Environment[k] = v;

        var command = string.Join(' ', new[] { fileName }.Concat(psi.ArgumentList).Select(Quote));
        var limit = timeout ?? DefaultTimeout;

        using var proc = new Process { StartInfo = psi };
        proc.Start();
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var outTask = proc.StandardOutput.BaseStream.CopyToAsync(stdout);
        var errTask = proc.StandardError.BaseStream.CopyToAsync(stderr);
        // Programs must never wait for a terminal: stdin is the given bytes, then EOF.
        // Written in the background so a program that ignores stdin cannot block us.
        var inTask = Task.Run(() =>
        {
            try
            {
                if (stdin != null)
                    proc.StandardInput.BaseStream.Write(stdin);
                proc.StandardInput.Close();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the program exited without reading it all
            }
        });

        try
        {
            return Wait(proc, command, limit, outTask, errTask, stdout, stderr);
        }
        finally
        {
            // Process.Dispose closes stdin too; the StreamWriter is not thread-safe, so the
            // writer must be finished (it is, once the program has exited) before we dispose.
            inTask.Wait(PipeDrainGrace);
        }
    }

    static RunResult Wait(Process proc, string command, TimeSpan limit, Task outTask, Task errTask,
        MemoryStream stdout, MemoryStream stderr)
    {
        if (!proc.WaitForExit(limit))
        {
            try { proc.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            proc.WaitForExit(5000);
            Task.WaitAll([outTask, errTask], PipeDrainGrace);
            return new RunResult(command, -1, [], [], proc.Id,
                $"timed out after {limit.TotalSeconds:0} s and was killed: {command}\n" +
                $"stdout so far:\n{Tail(stdout)}\nstderr so far:\n{Tail(stderr)}");
        }
        proc.WaitForExit(); // lets the async readers observe EOF on the pipes
        if (!Task.WaitAll([outTask, errTask], PipeDrainGrace))
            return new RunResult(command, proc.ExitCode, [], [], proc.Id,
                $"{command} exited with {proc.ExitCode} but its stdout/stderr stayed open for " +
                $"{PipeDrainGrace.TotalSeconds:0} s (a leaked child process holds them?)\nstderr:\n{Tail(stderr)}");

        // On Unix .NET reports a signal death as 128 + signal number, like a shell.
        return new RunResult(command, proc.ExitCode, stdout.ToArray(), stderr.ToArray(), proc.Id);
    }

    static string Tail(MemoryStream s)
    {
        // The reader may still be writing into a stream we gave up on: take a best-effort copy.
        byte[] bytes;
        try { bytes = s.ToArray(); }
        catch (Exception e) when (e is ArgumentException or ObjectDisposedException) { return "<unavailable>"; }
        return System.Text.Encoding.UTF8.GetString(bytes, Math.Max(0, bytes.Length - 3000), Math.Min(bytes.Length, 3000));
    }

    static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
