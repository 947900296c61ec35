using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;

namespace Sentry.Gofer.Confinement;

/// <summary>
/// The steps the Gofer process takes to shut itself in before it serves, in order. Each step
/// that is not permitted (an unprivileged Gofer, a kernel without the call) is skipped with one
/// line on the log saying so, and the Gofer still serves correctly: the file server's own checks
/// (one name at a time beneath fds it holds, nothing followed) do not depend on any of them.
/// <list type="number">
/// <item><see cref="OpenProc"/>: keeps /proc/self/fd (reopening files) and /proc/self/task (finding threads) across pivot_root.</item>
/// <item><see cref="EnterMountNamespace"/>: unshare(CLONE_NEWNS), then every mount private so nothing reaches the host's namespace.</item>
/// <item><see cref="ChangeRoot"/>: bind-mounts the export onto itself and pivot_root's into it, detaching the old root (chroot if that fails; nothing to do when the export is "/" already); marks every mount below nosuid, nodev and, with --read-only, read-only, in this namespace only. Without a namespace of its own, chroot if permitted.</item>
/// <item><see cref="ConfineOtherThreads"/>: the runtime's other threads join the namespace and drop capabilities (see <see cref="AllThreads"/>).</item>
/// <item><see cref="DropCapabilities"/>: keeps only the file capabilities a root Gofer needs (DAC override and read-search; for a writable export also chown, fowner, fsetid), in the bounding set too; clears ambient ones.</item>
/// <item><see cref="SetProcessLimits"/>: RLIMIT_NOFILE raised to its hard limit (every fid holds an fd), not dumpable (no ptrace by same-user processes).</item>
/// <item><see cref="RestrictSystemCalls"/>: PR_SET_NO_NEW_PRIVS, then the seccomp allowlist of <see cref="GoferSyscalls"/> on every thread.</item>
/// </list>
/// </summary>
internal sealed class GoferConfinement : IDisposable
{
    readonly string _root;
    readonly bool _readOnly;
    /// <summary>Some export (the root or a volume) may be changed: the capabilities changing files needs are kept.</summary>
    readonly bool _writes;
    readonly TextWriter _log;
    readonly int _rootFd;
    int _taskFd = -1, _mountNsFd = -1;
    bool _ownNamespace, _rootChanged;

    /// <param name="root">The export directory as given on the command line.</param>
    /// <param name="rootFd">An fd of it opened before any step (the export when no step changes the root).</param>
    /// <param name="writableVolumes">Whether a volume served besides the root may be changed.</param>
    public GoferConfinement(string root, int rootFd, bool readOnly, TextWriter log, bool writableVolumes = false)
    {
        _root = root;
        _rootFd = rootFd;
        _readOnly = readOnly;
        _writes = !readOnly || writableVolumes;
        _log = log;
    }

    /// <summary>O_PATH fd of the export root as the file server must see it (after pivot_root, "/").</summary>
    public int ExportFd { get; private set; } = -1;
    /// <summary>/proc/self/fd kept from before pivot_root, or -1.</summary>
    public int ProcSelfFd { get; private set; } = -1;
    /// <summary>Steps that were skipped, with the reason (also written to the log).</summary>
    public List<string> Skipped { get; } = new();

    void Skip(string step, string why)
    {
        Skipped.Add($"{step}: {why}");
        _log.WriteLine($"sentry gofer: {step} skipped: {why}");
    }

    static string Err(int rc) => $"errno {-rc}";

    /// <summary>Every step up to, not including, the system call filter (installed once the server is made).</summary>
    public void ApplyBeforeServing()
    {
        OpenProc();
        EnterMountNamespace();
        ChangeRoot();
        ConfineOtherThreads();
        DropCapabilities();
        SetProcessLimits();
        OpenExport();
    }

    public void OpenProc()
    {
        ProcSelfFd = Sys.Open("/proc/self/fd", Linux.O_PATH | Linux.O_DIRECTORY);
        _taskFd = Sys.Open("/proc/self/task", Linux.O_RDONLY | Linux.O_DIRECTORY);
        if (ProcSelfFd < 0 || _taskFd < 0)
        {
            Skip("/proc", $"not available ({Err(Math.Min(ProcSelfFd, _taskFd))}): files are reopened by name and the runtime's other threads keep the host's view");
            Sys.Close(ProcSelfFd);
            Sys.Close(_taskFd);
            ProcSelfFd = _taskFd = -1;
        }
    }

    public void EnterMountNamespace()
    {
        int rc = Sys.Unshare(Linux.CLONE_NEWNS);
        if (rc < 0)
        {
            Skip("mount namespace", $"unshare(CLONE_NEWNS) not permitted ({Err(rc)})");
            return;
        }
        // Private first: otherwise the bind mount and pivot below would propagate to the host.
        rc = Sys.Mount(null, "/", Linux.MS_REC | Linux.MS_PRIVATE);
        if (rc < 0)
        {
            Skip("mount namespace", $"cannot make the mounts private ({Err(rc)}): no mount is changed");
            return;
        }
        _ownNamespace = true;
        _mountNsFd = Sys.Open("/proc/thread-self/ns/mnt", Linux.O_RDONLY);
    }

    public void ChangeRoot()
    {
        bool exportIsRoot = Sys.Fstat(_rootFd, out LinuxStat dir) == 0
            && Sys.FstatAt(Linux.AT_FDCWD, "/"u8, 0, out LinuxStat slash) == 0
            && dir.st_dev == slash.st_dev && dir.st_ino == slash.st_ino;
        if (!_ownNamespace)
        {
            // Without a namespace of its own a privileged Gofer can still chroot (CAP_SYS_CHROOT).
            if (!exportIsRoot) Chroot(_root);
            return;
        }
        // pivot_root cannot make "/" the root it already is, and there is nothing outside it to hide.
        if (!exportIsRoot) PivotInto();
        ulong attrs = Linux.MOUNT_ATTR_NOSUID | Linux.MOUNT_ATTR_NODEV | (_readOnly ? Linux.MOUNT_ATTR_RDONLY : 0);
        int rc = Sys.MountSetattr("/", Linux.AT_RECURSIVE, attrs);
        if (rc == -Errno.ENOSYS)
        {
            // Before Linux 5.12: the top mount only.
            ulong flags = Linux.MS_REMOUNT | Linux.MS_BIND | Linux.MS_NOSUID | Linux.MS_NODEV | (_readOnly ? Linux.MS_RDONLY : 0);
            rc = Sys.Mount(null, "/", flags);
        }
        if (rc < 0) Skip(_readOnly ? "read-only remount" : "nosuid,nodev remount", Err(rc));
    }

    /// <summary>Bind-mounts the export onto itself (pivot_root wants a mount point) and makes it the root; chroot if that fails.</summary>
    void PivotInto()
    {
        int rc = Sys.Mount(_root, _root, Linux.MS_BIND | Linux.MS_REC);
        if (rc < 0)
        {
            Skip("bind mount of the export", $"{Err(rc)}: using chroot");
            Chroot(_root);
            return;
        }
        // pivot_root(".", "."): the old root ends up mounted on top of the new one, then is detached.
        if ((rc = Sys.Chdir(_root)) < 0 || (rc = Sys.PivotRoot(".", ".")) < 0)
        {
            Skip("pivot_root", $"{Err(rc)}: using chroot");
            Chroot(_root);
            return;
        }
        if ((rc = Sys.Umount2(".", Linux.MNT_DETACH)) < 0) Skip("detaching the old root", Err(rc));
        Sys.Chdir("/");
        _rootChanged = true;
    }

    bool Chroot(string path)
    {
        int rc = Sys.Chroot(path);
        if (rc < 0)
        {
            Skip("chroot", $"not permitted ({Err(rc)}): the host's root stays visible to the process (the file server still serves only the export)");
            return false;
        }
        _rootChanged = true;
        Sys.Chdir("/");
        return true;
    }

    /// <summary>Capabilities kept: what serving files owned by anyone needs, nothing else.</summary>
    ulong KeptCapabilities => (1UL << Linux.CAP_DAC_OVERRIDE) | (1UL << Linux.CAP_DAC_READ_SEARCH)
        | (!_writes ? 0 : (1UL << Linux.CAP_CHOWN) | (1UL << Linux.CAP_FOWNER) | (1UL << Linux.CAP_FSETID));

    CapabilitySets? TargetCapabilities()
    {
        if (Sys.Capget(out _, out ulong permitted) < 0) return null;
        ulong keep = permitted & KeptCapabilities;
        return new CapabilitySets(keep, keep, 0);
    }

    public void ConfineOtherThreads()
    {
        if (_taskFd < 0) return;
        CapabilitySets? caps = TargetCapabilities();
        int ns = _ownNamespace ? _mountNsFd : -1;
        if (ns < 0 && caps == null) return;
        AllThreads.Result r = AllThreads.Run(_taskFd, ns, caps);
        if (r.Unanswered < 0) Skip("confining the other threads", "cannot install the signal handler");
        else if (r.Unanswered > 0 || r.FailedCalls > 0)
            Skip("confining the other threads", $"{r.Unanswered} of {r.Threads} threads did not answer, {r.FailedCalls} calls failed: they may keep the host's view");
    }

    public void DropCapabilities()
    {
        if (Sys.Capget(out _, out ulong permitted) < 0 || permitted == 0) return; // nothing to drop
        ulong keep = KeptCapabilities;
        // The bounding set (needs CAP_SETPCAP, so before capset): what no exec could ever regain.
        for (int cap = 0; cap <= 63; cap++)
        {
            if ((keep & (1UL << cap)) != 0) continue;
            int rc = Sys.Prctl(Linux.PR_CAPBSET_DROP, cap);
            if (rc == -Errno.EINVAL) break; // past the kernel's last capability
            if (rc < 0)
            {
                Skip("dropping the capability bounding set", Err(rc));
                break;
            }
        }
        Sys.Prctl(Linux.PR_CAP_AMBIENT, Linux.PR_CAP_AMBIENT_CLEAR_ALL);
        int set = new CapabilitySets(permitted & keep, permitted & keep, 0).Apply();
        if (set < 0) Skip("dropping capabilities", Err(set));
    }

    public void SetProcessLimits()
    {
        if (Sys.GetRlimit(Linux.RLIMIT_NOFILE, out Rlimit nofile) == 0 && nofile.rlim_cur < nofile.rlim_max)
            Sys.SetRlimit(Linux.RLIMIT_NOFILE, new Rlimit { rlim_cur = nofile.rlim_max, rlim_max = nofile.rlim_max });
        int rc = Sys.Prctl(Linux.PR_SET_DUMPABLE, 0);
        if (rc < 0) Skip("not dumpable", Err(rc));
    }

    /// <summary>The last step, once nothing needs more than the allowlist: no_new_privs, then seccomp on every thread.</summary>
    public void RestrictSystemCalls()
    {
        int rc = Sys.Prctl(Linux.PR_SET_NO_NEW_PRIVS, 1);
        if (rc < 0)
        {
            Skip("seccomp", $"PR_SET_NO_NEW_PRIVS: {Err(rc)}");
            return;
        }
        SockFilter[] filter = Seccomp.Build(GoferSyscalls.Rules(Environment.ProcessId));
        rc = Seccomp.Install(filter);
        if (rc < 0) Skip("seccomp", Err(rc));
    }

    /// <summary>Opens the export root as the server must use it: "/" once the root changed, else the fd given.</summary>
    public void OpenExport()
    {
        ExportFd = _rootChanged ? Sys.Open("/", Linux.O_PATH | Linux.O_DIRECTORY) : Sys.DupCloexec(_rootFd);
    }

    /// <summary>Closes the fds only the steps needed (the server keeps duplicates of the rest).</summary>
    public void Dispose()
    {
        Sys.Close(_taskFd);
        Sys.Close(_mountNsFd);
        Sys.Close(ExportFd);
        Sys.Close(ProcSelfFd);
        _taskFd = _mountNsFd = ExportFd = ProcSelfFd = -1;
    }
}
