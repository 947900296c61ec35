using System.Runtime.InteropServices;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// clone, clone3, fork, vfork: new processes and threads.
public static partial class Sys
{
    const ulong CSIGNAL = 0xff, CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
        CLONE_PIDFD = 0x1000, CLONE_PTRACE = 0x2000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000,
        CLONE_NEWNS = 0x20000, CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000,
        CLONE_CHILD_CLEARTID = 0x200000, CLONE_DETACHED = 0x400000, CLONE_UNTRACED = 0x800000,
        CLONE_CHILD_SETTID = 0x1000000, CLONE_NEWCGROUP = 0x02000000, CLONE_NEWUTS = 0x04000000, CLONE_NEWIPC = 0x08000000,
        CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000, CLONE_IO = 0x80000000,
        CLONE_CLEAR_SIGHAND = 0x100000000, CLONE_INTO_CGROUP = 0x200000000;
    const ulong NamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

    internal static void RegisterClone(SyscallHandler?[] t)
    {
        t[56] = (Task k, in SyscallArgs a) => DoClone(k, a.A0, a.A1, a.A2, a.A3, a.A4, (int)(a.A0 & CSIGNAL));
        t[57] = (Task k, in SyscallArgs a) => DoClone(k, SIGCHLD, 0, 0, 0, 0, SIGCHLD);                        // fork
        t[58] = (Task k, in SyscallArgs a) => DoClone(k, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0, SIGCHLD); // vfork
        t[435] = Clone3;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct CloneArgs { public ulong flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; }

    static long Clone3(Task t, in SyscallArgs a)
    {
        ulong size = a.A1;
        if (size < 64 || size > 4096) return -Errno.EINVAL; // CLONE_ARGS_SIZE_VER0 .. a page
        Span<byte> raw = stackalloc byte[88];
        raw.Clear();
        if (t.Mm.CopyIn(a.A0, raw[..(int)Math.Min(size, 88UL)]) < 0) return -Errno.EFAULT;
        // A larger struct from a newer libc must have zeros in the fields we do not know.
        if (size > 88)
        {
            var rest = new byte[size - 88];
            if (t.Mm.CopyIn(a.A0 + 88, rest) < 0) return -Errno.EFAULT;
            if (Array.Exists(rest, b => b != 0)) return -Errno.E2BIG;
        }
        var ca = MemoryMarshal.Read<CloneArgs>(raw);
        if ((ca.exit_signal & ~CSIGNAL) != 0 || ca.exit_signal > _NSIG) return -Errno.EINVAL;
        if ((ca.flags & CSIGNAL) != 0) return -Errno.EINVAL;
        if (ca.set_tid != 0 || ca.set_tid_size != 0) { t.Sandbox.ReportUnsupported("clone3 set_tid"); return -Errno.EINVAL; }
        if ((ca.stack == 0) != (ca.stack_size == 0)) return -Errno.EINVAL;
        ulong sp = ca.stack == 0 ? 0 : ca.stack + ca.stack_size;
        return DoClone(t, ca.flags, sp, ca.parent_tid, ca.child_tid, ca.tls, (int)ca.exit_signal);
    }

    /// <summary>
    /// The common clone: validates the flag combination as Linux does, builds the child task
    /// (sharing or copying address space, fds, fs context and signal handlers per the flags), and
    /// starts it on its own host thread. Returns the child's tid to the parent.
    /// </summary>
    static long DoClone(Task t, ulong flags, ulong newSp, ulong parentTid, ulong childTid, ulong tls, int exitSignal)
    {
        if ((flags & CLONE_THREAD) != 0 && (flags & CLONE_SIGHAND) == 0) return -Errno.EINVAL;
        if ((flags & CLONE_SIGHAND) != 0 && (flags & CLONE_VM) == 0) return -Errno.EINVAL;
        if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS)) return -Errno.EINVAL;
        if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS)) return -Errno.EINVAL;
        if ((flags & CLONE_THREAD) != 0 && (flags & (CLONE_NEWUSER | CLONE_NEWPID)) != 0) return -Errno.EINVAL;
        if ((flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) == (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) return -Errno.EINVAL;
        if ((flags & CLONE_PARENT) != 0 && t.Pid == 1 && (flags & CLONE_THREAD) == 0) return -Errno.EINVAL; // init has no parent to share
        if ((flags & NamespaceFlags) != 0)
        {
            t.Sandbox.ReportUnsupported("clone namespace flags");
            return -Errno.EINVAL;
        }
        if ((flags & (CLONE_PIDFD | CLONE_INTO_CGROUP)) != 0)
        {
            t.Sandbox.ReportUnsupported((flags & CLONE_PIDFD) != 0 ? "clone CLONE_PIDFD" : "clone CLONE_INTO_CGROUP");
            return -Errno.EINVAL;
        }
        if ((flags & CLONE_SETTLS) != 0 && tls >= UserTop) return -Errno.EPERM;

        var sandbox = t.Sandbox;
        bool thread = (flags & CLONE_THREAD) != 0;
        // Capture the FPU state now: the child starts with the parent's registers, all of them.
        t.Context.LoadFpState(t.Cpu);

        MemoryManager mm;
        if ((flags & CLONE_VM) != 0) { mm = t.Mm; mm.AddUser(); }
        else
        {
            mm = t.Mm.Fork();
            if (mm == null) return -Errno.ENOMEM;
        }

        Task child;
        lock (sandbox.TreeLock)
        {
            if (sandbox.TaskCount >= Sandbox.MaxTasks || (!thread && CountProcesses(sandbox) >= (int)Math.Min(t.Limits[RLIMIT_NPROC].Cur, int.MaxValue)))
            {
                mm.ReleaseUser();
                return -Errno.EAGAIN;
            }
            int tid = sandbox.AllocatePid();
            if (tid < 0) { mm.ReleaseUser(); return -Errno.EAGAIN; }
            ThreadGroup group;
            if (thread) group = t.Group;
            else
            {
                var parent = (flags & CLONE_PARENT) != 0 ? t.Group.Parent : t.Group;
                group = new ThreadGroup { Tgid = tid, Parent = parent, Pgid = t.Group.Pgid, Sid = t.Group.Sid, ExitSignal = exitSignal, ControllingTerminal = t.Group.ControllingTerminal };
                Array.Copy(t.Group.Limits, group.Limits, group.Limits.Length);
                parent?.Children.Add(group);
            }
            var signals = new SignalState
            {
                Actions = (flags & CLONE_SIGHAND) != 0 ? t.Signals.Actions : (SignalState.Action[])t.Signals.Actions.Clone(),
                Mask = t.Signals.Mask,
            };
            if ((flags & CLONE_CLEAR_SIGHAND) != 0)
                for (int i = 1; i < signals.Actions.Length; i++)
                    if (signals.Actions[i].Handler != SignalState.SIG_IGN) signals.Actions[i] = default;
            // A new thread sharing the stack area gets no alternate stack; vfork and fork keep it.
            if ((flags & (CLONE_VM | CLONE_VFORK)) != CLONE_VM)
            {
                signals.AltStackSp = t.Signals.AltStackSp; signals.AltStackSize = t.Signals.AltStackSize; signals.AltStackFlags = t.Signals.AltStackFlags;
            }
            FdTable fds;
            if ((flags & CLONE_FILES) != 0) { fds = t.Fds; fds.AddUser(); }
            else fds = t.Fds.Clone();
            FsContext fs = (flags & CLONE_FS) != 0 ? t.Fs : t.Fs.Clone();
            child = new Task
            {
                Sandbox = sandbox, Mm = mm, Tid = tid, Group = group, Signals = signals, Fds = fds, Fs = fs,
                Uid = t.Uid, Gid = t.Gid, ExePath = t.ExePath, Comm = t.Comm, Sched = t.Sched.ForChild(), MemPolicy = t.MemPolicy,
            };
            sandbox.AddTask(child);
        }

        // Registers: the parent's, with rax = 0, the new stack and TLS if asked.
        child.Cpu.Regs = t.Cpu.Regs;
        child.Cpu.Regs.rax = 0;
        if (newSp != 0) child.Cpu.Regs.rsp = newSp;
        if ((flags & CLONE_SETTLS) != 0) child.Cpu.Regs.fs_base = tls;
        t.Cpu.Fp.CopyTo(child.Cpu.Fp, 0);
        child.Cpu.FpDirty = true;

        if ((flags & CLONE_PARENT_SETTID) != 0) t.Mm.Write(parentTid, child.Tid);
        if ((flags & CLONE_CHILD_SETTID) != 0) mm.Write(childTid, child.Tid);
        if ((flags & CLONE_CHILD_CLEARTID) != 0) child.ClearChildTid = childTid;

        bool vfork = (flags & CLONE_VFORK) != 0;
        if (vfork)
        {
            child.VforkParent = t;
            child.VforkPending = true;
        }
        TaskRunner.Start(child);
        if (vfork)
        {
            // The parent sleeps until the child execs or exits; signals wait until then too.
            t.Block(null, () => !child.VforkPending, interruptible: false);
        }
        return child.Tid;
    }

    static int CountProcesses(Sandbox s) => s.LiveGroups().Count;
}
