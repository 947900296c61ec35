using System.Runtime.InteropServices;
using System.Text;
using Sentry.Kernel.Fs;
using static Sentry.Platform.PosixSpawn;

namespace Sentry.Host;

/// <summary>
/// Starts the Gofer (`sentry-gofer`, or this same executable as `sentry gofer`) with `--root DIR --fd 3 --read-only`,
/// holding one end of a socketpair as fd 3, and connects Sentry's 9P client to the other end.
/// Each volume (a host directory bind-mounted into the sandbox) gets a socketpair of its own,
/// found by the Gofer on fds 4, 5, ... (`--volume 4=DIR`, `--volume-read-only 5=DIR`).
/// Tversion goes out on each socket as soon as the Gofer is spawned, so its start-up overlaps
/// Sentry's without a thread waiting for it; the first file lookup collects the answer.
/// The process is started with posix_spawn (vfork+exec in libc), so the .NET runtime is never
/// forked; it confines itself (mount namespace, pivot_root, seccomp) before serving.
/// </summary>
public static unsafe partial class GoferLauncher
{
    [LibraryImport("libc", SetLastError = true)] private static partial int socketpair(int domain, int type, int protocol, int* sv);
    [LibraryImport("libc")] private static partial int close(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int fcntl(int fd, int cmd, int arg);

    const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000, F_DUPFD_CLOEXEC = 1030;
    /// <summary>The fd the Gofer finds its end of the socketpair on.</summary>
    public const int GoferFd = 3;

    /// <summary>
    /// A started Gofer not yet attached to: its process, and the connections to the root's export
    /// and to each volume's, each with its Tversion already sent (the Gofer answers once it is up).
    /// </summary>
    public sealed class Started(int pid, GoferFs.Connecting root, GoferFs.Connecting[] volumes)
    {
        public int Pid => pid;

        /// <summary>Waits for the Gofer's answer and attaches to its root export. Throws with a one-line reason when it cannot.</summary>
        public GoferFs Attach() => Finish(root);

        /// <summary>Attaches to volume <paramref name="index"/> (in the order given to <see cref="Start"/>).</summary>
        public GoferFs AttachVolume(int index) => Finish(volumes[index]);

        GoferFs Finish(GoferFs.Connecting connecting)
        {
            long r = connecting.Finish(out var fs);
            if (r < 0) throw new InvalidOperationException($"the gofer (pid {pid}) did not answer 9P: errno {-r}");
            return fs!;
        }
    }

    /// <summary>
    /// Starts the Gofer serving <paramref name="root"/> read-only. It starts up while Sentry
    /// prepares the platform; <see cref="Started.Attach"/> then waits for its answer.
    /// </summary>
    public static Started Start(string root, IReadOnlyList<VolumeSpec>? volumes = null)
    {
        volumes ??= [];
        // Pairs of (Sentry's end, the Gofer's end): the root's first, then each volume's.
        var ends = new List<(int Ours, int Theirs)>();
        try
        {
            int* sv = stackalloc int[2];
            for (int i = 0; i <= volumes.Count; i++)
            {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
                    throw new InvalidOperationException($"socketpair: errno {Marshal.GetLastPInvokeError()}");
                ends.Add((sv[0], sv[1]));
            }
            for (int i = 0; i < ends.Count; i++)
                if (ends[i].Theirs < GoferFd + ends.Count)
                {
                    int moved = fcntl(ends[i].Theirs, F_DUPFD_CLOEXEC, GoferFd + ends.Count);
                    if (moved < 0) throw new InvalidOperationException($"fcntl(F_DUPFD_CLOEXEC): errno {Marshal.GetLastPInvokeError()}");
                    close(ends[i].Theirs);
                    ends[i] = (ends[i].Ours, moved);
                }
            int pid = Spawn([.. ends.Select(e => e.Theirs)], root, volumes);
            foreach (var e in ends) close(e.Theirs);
            // From here each socket belongs to its connection (closed with it).
            var rootConnection = GoferFs.BeginConnect(ends[0].Ours, GoferFs.Layer.ReadOnlyLower);
            var volumeConnections = new GoferFs.Connecting[volumes.Count];
            for (int i = 0; i < volumes.Count; i++)
                volumeConnections[i] = GoferFs.BeginConnect(ends[i + 1].Ours, volumes[i].ReadOnly ? GoferFs.Layer.ReadOnlyVolume : GoferFs.Layer.Volume);
            return new Started(pid, rootConnection, volumeConnections);
        }
        catch
        {
            foreach (var e in ends) { close(e.Ours); close(e.Theirs); }
            throw;
        }
    }

    /// <summary>
    /// How to start the Gofer: the small `sentry-gofer` executable published beside a Native AOT
    /// `sentry` (it touches a fraction of the pages the whole of sentry would, which is most of
    /// the Gofer's memory); else this executable again as `sentry gofer`, or `dotnet sentry.dll
    /// gofer` under `dotnet`.
    /// </summary>
    static List<string> GoferCommand()
    {
        string exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the sentry executable to start the gofer");
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
            return [exe, Path.Combine(AppContext.BaseDirectory, "sentry.dll"), "gofer"];
        string own = Path.Combine(Path.GetDirectoryName(exe) ?? ".", "sentry-gofer");
        if (File.Exists(own)) return [own];
        return [exe, "gofer"];
    }

    static int Spawn(int[] childEnds, string root, IReadOnlyList<VolumeSpec> volumes)
    {
        var args = GoferCommand();
        args.AddRange(["--root", root, "--fd", GoferFd.ToString(), "--read-only"]);
        for (int i = 0; i < volumes.Count; i++)
            args.AddRange([volumes[i].ReadOnly ? "--volume-read-only" : "--volume", $"{GoferFd + 1 + i}={volumes[i].HostDir}"]);
        var bytes = args.Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToArray();
        var handles = bytes.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        byte* fa = stackalloc byte[256];
        try
        {
            byte** argv = stackalloc byte*[bytes.Length + 1];
            for (int i = 0; i < bytes.Length; i++) argv[i] = (byte*)handles[i].AddrOfPinnedObject();
            argv[bytes.Length] = null;
            // No environment of the caller reaches the Gofer; the runtime's diagnostics stay off so a
            // JIT build does not leave IPC sockets in the host's /tmp before it confines itself.
            byte[] noDiagnostics = "DOTNET_EnableDiagnostics=0\0"u8.ToArray();
            var envHandle = GCHandle.Alloc(noDiagnostics, GCHandleType.Pinned);
            byte** envp = stackalloc byte*[2] { (byte*)envHandle.AddrOfPinnedObject(), null };
            posix_spawn_file_actions_init(fa);
            // dup2 onto fd 3 (4, 5, ... for volumes) clears close-on-exec there; every other
            // descriptor of Sentry is close-on-exec. No end sits on a target number (Start moved
            // them above), so no dup2 overwrites an end not yet copied.
            for (int i = 0; i < childEnds.Length; i++)
                posix_spawn_file_actions_adddup2(fa, childEnds[i], GoferFd + i);
            // The application's stdout and stderr are not the Gofer's to write on: a runtime message
            // of its own (seen once under the JIT build, at exit) must not land in the program's
            // output. Sentry itself reports a Gofer that dies.
            byte* devNull = stackalloc byte[] { (byte)'/', (byte)'d', (byte)'e', (byte)'v', (byte)'/', (byte)'n', (byte)'u', (byte)'l', (byte)'l', 0 };
            posix_spawn_file_actions_addopen(fa, 1, devNull, 1 /* O_WRONLY */, 0);
            posix_spawn_file_actions_addopen(fa, 2, devNull, 1 /* O_WRONLY */, 0);
            int pid;
            int rc = posix_spawn(&pid, argv[0], fa, null, argv, envp);
            envHandle.Free();
            if (rc != 0) throw new InvalidOperationException($"cannot start the gofer ({args[0]}): errno {rc}");
            return pid;
        }
        finally
        {
            posix_spawn_file_actions_destroy(fa);
            foreach (var h in handles) h.Free();
        }
    }
}
