using Sentry.Kernel;
using Sentry.Platform;
using Sentry.Platform.Ptrace;

namespace Sentry.Benchmarks;

/// <summary>Runs a guest program to completion in a fresh ptrace sandbox, its output discarded.</summary>
internal static class SandboxRun
{
    static readonly int s_devNull = (int)File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write).DangerousGetHandle();

    public static int Run(string program, string[] args)
    {
        using IPlatform platform = new PtracePlatform();
        return Sandbox.Run(platform, new SandboxOptions { Program = program, Args = args, StdoutFd = s_devNull, Log = TextWriter.Null });
    }

    /// <summary>Returns 0 for a run that exited 0, else throws so BenchmarkDotNet reports the case as failed.</summary>
    public static int Check(int status, string what) =>
        status == 0 ? 0 : throw new InvalidOperationException($"{what} exited with status {status}");
}
