using Sentry.Kernel;
using Sentry.Platform;
using Sentry.Platform.Ptrace;

namespace Sentry.Benchmarks;

/// <summary>Runs a guest program to completion in a fresh sandbox (ptrace unless told), its output discarded.</summary>
internal static class SandboxRun
{
    static readonly int s_devNull = (int)File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write).DangerousGetHandle();

    public static int Run(string program, string[] args) => Run(program, args, () => new PtracePlatform());

    /// <summary>The same on the platform <paramref name="newPlatform"/> makes.</summary>
    public static int Run(string program, string[] args, Func<IPlatform> newPlatform)
    {
        using IPlatform platform = newPlatform();
        return Sandbox.Run(platform, new SandboxOptions { Program = program, Args = args, StdoutFd = s_devNull, Log = TextWriter.Null });
    }

    /// <summary>Returns 0 for a run that exited 0, else throws so BenchmarkDotNet reports the case as failed.</summary>
    public static int Check(int status, string what) =>
        status == 0 ? 0 : throw new InvalidOperationException($"{what} exited with status {status}");
}
