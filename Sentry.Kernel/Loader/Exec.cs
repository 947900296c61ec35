using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Loader;

/// <summary>
/// execve for a task: loads the new image into a fresh address space and only then replaces the
/// old one, so a failed exec returns an error to a process that is still intact.
/// Scripts starting with "#!" run their interpreter (up to 4 levels, as Linux allows).
/// </summary>
public static class Exec
{
    const int MaxInterpreterDepth = 4;

    /// <summary>Replaces <paramref name="task"/>'s program. Returns 0 or -errno (the old image untouched).</summary>
    public static long Run(Task task, Lookup l, string filename, List<string> argv, IReadOnlyList<string> envp)
    {
        string comm = CommOf(filename);
        for (int depth = 0; ; depth++)
        {
            if (!l.Exists) return -Errno.ENOENT;
            if (l.IsDir || (l.Mode & Linux.S_IFMT) != Linux.S_IFREG || (l.Mode & 0x49) == 0) return -Errno.EACCES;
            var f = Open.File(task, l, Linux.O_RDONLY, out int err);
            if (f == null) return err;
            var head = new byte[Shebang.BufSize];
            long n = f.PRead(head, 0);
            f.Release();
            if (n < 0) return n;
            if (!Shebang.TryParse(head.AsSpan(0, (int)n), out var interp, out var arg)) break;
            if (interp.Length == 0 || depth >= MaxInterpreterDepth) return depth >= MaxInterpreterDepth ? -Errno.ELOOP : -Errno.ENOEXEC;
            // argv becomes: interpreter [arg] script-path original-argv[1..]
            argv.RemoveAt(0);
            argv.Insert(0, filename);
            if (arg != null) argv.Insert(0, arg);
            argv.Insert(0, interp);
            filename = interp;
            l = PathWalker.Resolve(task, Linux.AT_FDCWD, interp, followLast: true);
            if (l.Error < 0) return l.Error;
        }

        // Other threads of the process end before the new image runs (Linux's de_thread).
        task.Sandbox.KillOtherThreads(task);
        var oldMm = task.Mm;
        // A task that has never run (the sandbox's first program) loads into its empty address space.
        bool fresh = oldMm.Vmas.Count == 0;
        // A process that is the only user of its address space reuses the platform's (emptied)
        // address space: on ptrace that saves starting a new stub process per exec.
        bool reuse = !fresh && oldMm.Users == 1;
        var newMm = fresh ? oldMm : new MemoryManager(task.Sandbox.Platform, reuse ? null : task.Sandbox.Platform.NewAddressSpace());
        task.Mm = newMm;
        long r = ElfLoader.Load(task, l, argv, envp);
        if (r < 0)
        {
            task.Mm = oldMm;
            if (!fresh) newMm.Dispose();
            return r;
        }
        if (reuse)
        {
            newMm.AttachAddressSpace(oldMm.TakeAddressSpace()!);
            oldMm.ReleaseUser();
        }
        else if (!fresh)
        {
            task.Context.Release(oldMm.AddressSpace);
            oldMm.ReleaseUser(); // a vfork parent may still be using it
        }
        task.Group.Execed = true;
        task.Comm = comm;
        Sandbox.ReleaseVfork(task);
        task.Fds.CloseOnExec();
        task.Signals.ResetForExec();
        task.ClearChildTid = 0;
        task.RobustList = 0;
        return 0;
    }

    /// <summary>
    /// The name exec gives the process (Linux's comm, from bprm->filename): the last component of
    /// the path it was exec'd by, not of the file a symlink led to (/bin/sh runs as "sh"), nor of a
    /// script's interpreter; at most 15 bytes.
    /// </summary>
    static string CommOf(string filename)
    {
        string name = filename[(filename.LastIndexOf('/') + 1)..];
        return name.Length > 15 ? name[..15] : name;
    }
}
