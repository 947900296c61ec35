using System.Runtime.InteropServices;

namespace Sentry.Platform;

/// <summary>
/// posix_spawn(3) and its attribute and file-action calls, for every place Sentry starts a host
/// process (stubs, the Gofer, a container's sandbox process): vfork+exec inside libc, so the
/// .NET runtime is never forked. Tmds.LibC does not bind them.
/// </summary>
public static unsafe partial class PosixSpawn
{
    public const short POSIX_SPAWN_SETPGROUP = 0x2, POSIX_SPAWN_SETSIGMASK = 0x8, POSIX_SPAWN_SETSID = 0x80;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);
    [LibraryImport("libc")] public static partial int posix_spawn_file_actions_init(void* fa);
    [LibraryImport("libc")] public static partial int posix_spawn_file_actions_adddup2(void* fa, int fd, int newfd);
    [LibraryImport("libc")] public static partial int posix_spawn_file_actions_addopen(void* fa, int fd, byte* path, int oflag, uint mode);
    [LibraryImport("libc")] public static partial int posix_spawn_file_actions_destroy(void* fa);
    [LibraryImport("libc")] public static partial int posix_spawnattr_init(void* attr);
    [LibraryImport("libc")] public static partial int posix_spawnattr_setflags(void* attr, short flags);
    [LibraryImport("libc")] public static partial int posix_spawnattr_setsigmask(void* attr, void* mask);
    [LibraryImport("libc")] public static partial int posix_spawnattr_setpgroup(void* attr, int pgroup);
    [LibraryImport("libc")] public static partial int posix_spawnattr_destroy(void* attr);
}
