using System.Runtime.InteropServices;
using System.Text;
using static Sentry.Platform.PosixSpawn;

namespace Sentry.Host.Oci;

/// <summary>
/// Starts this executable again (`sentry boot ...`) as the long-lived sandbox process of a
/// container, in a session of its own, with the caller's stdio and one extra descriptor as fd 3.
/// posix_spawn, never fork: the .NET runtime must not be forked.
/// </summary>
public static unsafe partial class SelfSpawn
{
    /// <summary>The command that runs this executable: itself, or `dotnet sentry.dll` under `dotnet`.</summary>
    public static List<string> Command()
    {
        string exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the sentry executable");
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
            return [exe, Path.Combine(AppContext.BaseDirectory, "sentry.dll")];
        return [exe];
    }

    /// <summary>Spawns `sentry ARGS`; <paramref name="fd3"/> (if not -1) becomes its fd 3. Returns the pid.</summary>
    public static int Start(IEnumerable<string> args, int fd3)
    {
        var argList = Command();
        argList.AddRange(args);
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            env.Add($"{e.Key}={e.Value}");
        var pinned = new List<GCHandle>();
        byte* Pin(string s)
        {
            var h = GCHandle.Alloc(Encoding.UTF8.GetBytes(s + "\0"), GCHandleType.Pinned);
            pinned.Add(h);
            return (byte*)h.AddrOfPinnedObject();
        }
        byte* fa = stackalloc byte[256];
        byte* attr = stackalloc byte[512];
        try
        {
            byte** argv = stackalloc byte*[argList.Count + 1];
            for (int i = 0; i < argList.Count; i++) argv[i] = Pin(argList[i]);
            argv[argList.Count] = null;
            byte** envp = stackalloc byte*[env.Count + 1];
            for (int i = 0; i < env.Count; i++) envp[i] = Pin(env[i]);
            envp[env.Count] = null;
            posix_spawn_file_actions_init(fa);
            if (fd3 >= 0) posix_spawn_file_actions_adddup2(fa, fd3, 3);
            posix_spawnattr_init(attr);
            // Its own session: the engine's terminal signals and process-group kills of the CLI do
            // not reach the container; the engine signals it through `kill`.
            posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID);
            int pid;
            int rc = posix_spawn(&pid, argv[0], fa, attr, argv, envp);
            if (rc != 0) throw new InvalidOperationException($"cannot start the sandbox process ({argList[0]}): errno {rc}");
            return pid;
        }
        finally
        {
            posix_spawn_file_actions_destroy(fa);
            posix_spawnattr_destroy(attr);
            foreach (var h in pinned) h.Free();
        }
    }
}
