using Sentry.Kernel;
using System.Runtime.InteropServices;
using Sentry.Platform;

namespace Sentry.Host;

/// <summary>`sentry do`: picks the platform, runs the sandbox, maps failures to exit codes.</summary>
public static class DoCommand
{
    static int LinuxNumber(PosixSignal s) => s switch
    {
        PosixSignal.SIGHUP => 1, PosixSignal.SIGINT => 2, PosixSignal.SIGQUIT => 3, PosixSignal.SIGTERM => 15,
        _ => (int)s,
    };

    public static int Execute(string platformName, SandboxOptions options)
    {
        IPlatform? platform = PlatformChooser.Choose(platformName, Console.Error);
        if (platform == null) return 1;
        try
        {
            var sandbox = new Sandbox(platform, options);
            // Signals sent to `sentry` go to the sandbox's init, as they would reach the program
            // run natively; the sandbox's exit status then tells what the program made of them.
            // A second one while the first is still pending ends `sentry` itself (the stubs die with
            // it: their tracers are gone), so a sandbox that ignores or cannot act on signals can
            // always be stopped from outside.
            var forward = new List<PosixSignalRegistration>();
            int received = 0;
            foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
                forward.Add(PosixSignalRegistration.Create(sig, ctx =>
                {
                    ctx.Cancel = true;
                    int n = LinuxNumber(ctx.Signal);
                    if (Interlocked.Increment(ref received) > 1)
                    {
                        Console.Error.WriteLine($"sentry: second signal {n}: stopping the sandbox");
                        Environment.Exit(128 + n);
                    }
                    sandbox.SignalInit(n);
                }));
            try { return sandbox.Run(); }
            finally { foreach (var f in forward) f.Dispose(); }
        }
        catch (SandboxStartException e)
        {
            Console.Error.WriteLine(e.Message);
            return e.ExitCode;
        }
        finally
        {
            platform.Dispose();
        }
    }
}
