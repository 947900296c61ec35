using Sentry.Kernel;
using Sentry.Kernel.Tasks;
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

    /// <summary>
    /// Whether this (the main) thread may run the first task itself: its stack is RLIMIT_STACK,
    /// which a user can set below what a task thread gets.
    /// </summary>
    static unsafe bool MainThreadStackFits()
    {
        ulong* limit = stackalloc ulong[2]; // struct rlimit64 { rlim_cur, rlim_max }
        return HostSyscall.Call(302 /* prlimit64 */, 0, 3 /* RLIMIT_STACK */, 0, (long)limit) == 0
            && limit[0] >= TaskRunner.StackSize;
    }

    /// <summary>
    /// Runs the sandbox for <paramref name="options"/> with files from <paramref name="gofer"/> (started with <paramref name="volumes"/>);
    /// <paramref name="created"/> hears of the sandbox before its first process starts (an OCI container routes `kill` to it).
    /// </summary>
    public static int Execute(GoferLauncher.Started gofer, string platformName, SandboxOptions options, IReadOnlyList<VolumeSpec> volumes,
        Action<Sandbox>? created = null)
    {
        // The Gofer is answering Tversion while the platform and the application's first process
        // start; the first file lookup collects its answer and attaches.
        Sandbox? sandboxRef = null;
        var attached = new Lazy<(Sentry.Kernel.Fs.GoferFs Root, Sentry.Kernel.Fs.GoferFs[] Volumes)>(() =>
        {
            var fs = gofer.Attach();
            fs.OnDeath = () =>
            {
                Console.Error.WriteLine("sentry: the gofer exited: file calls now fail with EIO; stopping the sandbox");
                sandboxRef?.SignalInit(9);
            };
            var mounted = new Sentry.Kernel.Fs.GoferFs[volumes.Count];
            for (int i = 0; i < volumes.Count; i++) mounted[i] = gofer.AttachVolume(i);
            return (Root: fs, Volumes: mounted);
        });
        Sentry.Kernel.Vfs.Inode Attached(Func<(Sentry.Kernel.Fs.GoferFs Root, Sentry.Kernel.Fs.GoferFs[] Volumes), Sentry.Kernel.Vfs.Inode> pick)
        {
            try { return pick(attached.Value); }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"sentry: {e.Message}");
                Environment.Exit(1);
                throw;
            }
        }
        var lower = new Lazy<Sentry.Kernel.Vfs.Inode>(() => Attached(a => a.Root.Root));
        var volumeMounts = volumes.Select((v, i) => new VolumeMount(v.Dest,
            new Sentry.Kernel.Fs.DeferredInode(new Lazy<Sentry.Kernel.Vfs.Inode>(() => Attached(a => a.Volumes[i].Root))), v.ReadOnly)).ToArray();
        IPlatform? platform = PlatformChooser.Choose(platformName, Console.Error, options.Log);
        if (platform == null) return 1;
        try
        {
            var sandbox = sandboxRef = new Sandbox(platform, options with { RootLower = new Sentry.Kernel.Fs.DeferredInode(lower), Volumes = volumeMounts });
            created?.Invoke(sandbox);
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
            try { return MainThreadStackFits() ? sandbox.RunOnCallingThread() : sandbox.Run(); }
            finally
            {
                foreach (var f in forward) f.Dispose();
                // A platform that broke under the sandbox (a stub died) ended it: say why, always.
                if (platform.Failure is { } failure) Console.Error.WriteLine($"sentry: platform {platform.Name} failed: {failure}");
            }
        }
        catch (SandboxStartException e)
        {
            Console.Error.WriteLine(e.Message);
            return e.ExitCode;
        }
        finally
        {
            platform.Dispose();
            if (attached.IsValueCreated)
            {
                attached.Value.Root.Dispose();
                foreach (var v in attached.Value.Volumes) v.Dispose();
            }
        }
    }
}
