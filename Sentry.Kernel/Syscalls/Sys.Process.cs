using System.Runtime.InteropServices;
using Sentry.Platform;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Process identity, limits, signal dispositions and other per-task state.
public static unsafe partial class Sys
{
    internal static void RegisterProcess(SyscallHandler?[] t)
    {
        t[60] = (Task k, in SyscallArgs a) => { k.ExitThread((int)a.A0); return 0; };    // exit
        t[231] = (Task k, in SyscallArgs a) => { k.Exit((int)a.A0); return 0; };         // exit_group
        t[39] = (Task k, in SyscallArgs a) => k.Pid;                                     // getpid
        t[110] = (Task k, in SyscallArgs a) => k.Ppid;                                   // getppid
        t[186] = (Task k, in SyscallArgs a) => k.Tid;                                    // gettid
        t[102] = t[107] = (Task k, in SyscallArgs a) => k.Uid;                           // getuid, geteuid
        t[104] = t[108] = (Task k, in SyscallArgs a) => k.Gid;                           // getgid, getegid
        t[118] = (Task k, in SyscallArgs a) => GetRes(k, a, k.Uid);                      // getresuid
        t[120] = (Task k, in SyscallArgs a) => GetRes(k, a, k.Gid);                      // getresgid
        t[115] = (Task k, in SyscallArgs a) => (int)a.A0 < 0 ? -Errno.EINVAL : 0;        // getgroups: no supplementary groups
        t[218] = (Task k, in SyscallArgs a) => { k.ClearChildTid = a.A0; return k.Tid; }; // set_tid_address
        t[273] = SetRobustList; t[274] = GetRobustList;
        t[158] = ArchPrctl; t[302] = Prlimit64; t[97] = GetRlimit; t[160] = SetRlimit;
        t[63] = Uname; t[204] = SchedGetAffinity; t[24] = (Task k, in SyscallArgs a) => { Thread.Yield(); return 0; };
        t[318] = GetRandom; t[309] = GetCpu;
        // Credentials: one uid and gid per task for now (real = effective = saved). Root may set
        // any value; others only the value they have (EPERM otherwise), as Linux allows.
        t[105] = (Task k, in SyscallArgs a) => SetId(k, true, (int)a.A0);                          // setuid
        t[106] = (Task k, in SyscallArgs a) => SetId(k, false, (int)a.A0);                         // setgid
        t[113] = (Task k, in SyscallArgs a) => SetId(k, true, (int)a.A0, (int)a.A1);               // setreuid
        t[114] = (Task k, in SyscallArgs a) => SetId(k, false, (int)a.A0, (int)a.A1);              // setregid
        t[117] = (Task k, in SyscallArgs a) => SetId(k, true, (int)a.A0, (int)a.A1, (int)a.A2);    // setresuid
        t[119] = (Task k, in SyscallArgs a) => SetId(k, false, (int)a.A0, (int)a.A1, (int)a.A2);   // setresgid
        t[122] = (Task k, in SyscallArgs a) => (long)k.Uid;                                        // setfsuid: returns the old fsuid
        t[123] = (Task k, in SyscallArgs a) => (long)k.Gid;                                        // setfsgid
        t[116] = (Task k, in SyscallArgs a) => (int)a.A0 < 0 || a.A0 > 65536 ? -Errno.EINVAL : k.Uid == 0 ? 0 : -Errno.EPERM; // setgroups
    }

    static long SetId(Task t, bool user, params int[] ids)
    {
        uint cur = user ? t.Uid : t.Gid;
        foreach (int id in ids)
        {
            if (id == -1) continue;
            if (t.Uid != 0 && (uint)id != cur) return -Errno.EPERM;
        }
        int eff = ids.Length == 1 ? ids[0] : ids[1];
        if (eff == -1) eff = ids[0];
        if (eff != -1)
        {
            if (user) t.Uid = (uint)eff; else t.Gid = (uint)eff;
        }
        return 0;
    }

    static long GetRes(Task t, in SyscallArgs a, uint id)
    {
        for (int i = 0; i < 3; i++)
            if (Put(t, a[i], id) < 0) return -Errno.EFAULT;
        return 0;
    }

    static long SetRobustList(Task t, in SyscallArgs a)
    {
        if (a.A1 != 24) return -Errno.EINVAL; // sizeof(struct robust_list_head)
        t.RobustList = a.A0;
        t.RobustListLen = a.A1;
        return 0;
    }

    static long GetRobustList(Task t, in SyscallArgs a)
    {
        if (a.A0 != 0 && (int)a.A0 != t.Tid) return -Errno.ESRCH;
        if (Put(t, a.A1, t.RobustList) < 0 || Put(t, a.A2, 24UL) < 0) return -Errno.EFAULT;
        return 0;
    }

    const ulong UserTop = 0x0000_8000_0000_0000;

    static long ArchPrctl(Task t, in SyscallArgs a)
    {
        switch ((int)a.A0)
        {
            case ARCH_SET_FS:
                if (a.A1 >= UserTop) return -Errno.EPERM;
                t.Cpu.Regs.fs_base = a.A1;
                return 0;
            case ARCH_SET_GS:
                if (a.A1 >= UserTop) return -Errno.EPERM;
                t.Cpu.Regs.gs_base = a.A1;
                return 0;
            case ARCH_GET_FS: return Put(t, a.A1, t.Cpu.Regs.fs_base);
            case ARCH_GET_GS: return Put(t, a.A1, t.Cpu.Regs.gs_base);
            case ARCH_GET_CPUID: return 1;
            case ARCH_SET_CPUID: return -Errno.ENODEV; // CPUID faulting is not offered
            default: return -Errno.EINVAL;
        }
    }

    // getrlimit, setrlimit and prlimit64 as kernel/sys.c orders them: the new limit is copied in
    // first (EFAULT), then the target is found (ESRCH) and checked (EPERM), then do_prlimit checks the
    // resource and the values (EINVAL, EPERM), and the old limit is copied out last, after a new
    // one took effect. struct rlimit and struct rlimit64 are the same on x86-64.
    static long Prlimit64(Task t, in SyscallArgs a)
    {
        (ulong Cur, ulong Max)? nl = null;
        if (a.A2 != 0)
        {
            if (t.Mm.Read(a.A2, out ulong cur) < 0 || t.Mm.Read(a.A2 + 8, out ulong max) < 0) return -Errno.EFAULT;
            nl = (cur, max);
        }
        int pid = (int)a.A0;
        var target = t;
        if (pid != 0 && pid != t.Tid)
        {
            if (pid < 0 || t.Sandbox.FindTask(pid) is not { } other) return -Errno.ESRCH;
            // check_prlimit_permission: same real, effective and saved ids, or CAP_SYS_RESOURCE
            // (root inside the sandbox); every task here shares one set of ids per uid.
            if (t.Uid != 0 && other.Uid != t.Uid) return -Errno.EPERM;
            target = other;
        }
        long r = DoPrlimit(target, (int)a.A1, nl, out var old);
        if (r == 0 && a.A3 != 0 && (Put(t, a.A3, old.Cur) < 0 || Put(t, a.A3 + 8, old.Max) < 0)) return -Errno.EFAULT;
        return r;
    }

    static long GetRlimit(Task t, in SyscallArgs a)
    {
        long r = DoPrlimit(t, (int)a.A0, null, out var old);
        if (r == 0 && (Put(t, a.A1, old.Cur) < 0 || Put(t, a.A1 + 8, old.Max) < 0)) return -Errno.EFAULT;
        return r;
    }

    static long SetRlimit(Task t, in SyscallArgs a)
    {
        if (t.Mm.Read(a.A1, out ulong cur) < 0 || t.Mm.Read(a.A1 + 8, out ulong max) < 0) return -Errno.EFAULT;
        return DoPrlimit(t, (int)a.A0, (cur, max), out _);
    }

    /// <summary>do_prlimit: reads and optionally replaces a limit of <paramref name="target"/>'s process.</summary>
    static long DoPrlimit(Task target, int resource, (ulong Cur, ulong Max)? nl, out (ulong Cur, ulong Max) old)
    {
        old = default;
        if ((uint)resource >= RLIMIT_NLIMITS) return -Errno.EINVAL;
        if (nl is { } n)
        {
            if (n.Cur > n.Max) return -Errno.EINVAL;
            if (resource == RLIMIT_NOFILE && n.Max > Vfs.FdTable.NrOpen) return -Errno.EPERM;
        }
        var limits = target.Limits;
        lock (limits)
        {
            old = limits[resource];
            if (nl is not { } n2) return 0;
            // Raising a hard limit takes CAP_SYS_RESOURCE in the initial user namespace, which
            // nobody in a sandbox has (as root in a container): the caller's limits stay a ceiling.
            if (n2.Max > old.Max) return -Errno.EPERM;
            limits[resource] = n2;
        }
        if (resource == RLIMIT_NOFILE)
        {
            Task[] threads;
            lock (target.Sandbox.TreeLock) threads = [.. target.Group.Threads];
            foreach (var thread in threads) thread.Fds.Limit = Vfs.FdTable.LimitFor(nl.Value.Cur);
        }
        return 0;
    }

    static long Uname(Task t, in SyscallArgs a)
    {
        // struct utsname: six 65-byte fields. The host's identity, so programs that check the
        // kernel version see a kernel that has the features Sentry's ABI offers.
        byte* buf = stackalloc byte[390];
        long r = HostSyscall.Call(63, (long)buf);
        if (r < 0) return r;
        if (t.Sandbox.Options.Hostname is { } name)
        {
            // nodename is the second field; a longer name than 64 bytes never gets this far (the OCI spec is checked).
            var field = new Span<byte>(buf + 65, 65);
            field.Clear();
            System.Text.Encoding.UTF8.GetBytes(name.AsSpan(0, Math.Min(name.Length, 64)), field);
        }
        return t.Mm.CopyOut(a.A0, new ReadOnlySpan<byte>(buf, 390)) < 0 ? -Errno.EFAULT : 0;
    }

    static long SchedGetAffinity(Task t, in SyscallArgs a)
    {
        int cpus = Environment.ProcessorCount;
        int bytes = ((cpus + 63) / 64) * 8;
        if (a.A1 < (ulong)bytes || (a.A1 & 7) != 0) return -Errno.EINVAL;
        var target = (int)a.A0 == 0 ? t : t.Sandbox.FindTask((int)a.A0);
        if (target == null) return -Errno.ESRCH;
        Span<byte> mask = stackalloc byte[bytes];
        mask.Clear();
        var sched = target.Sched;
        for (int c = 0; c < cpus; c++)
            if (sched.Allows(c)) mask[c / 8] |= (byte)(1 << (c % 8));
        return t.Mm.CopyOut(a.A2, mask) < 0 ? -Errno.EFAULT : bytes;
    }

    /// <summary>
    /// getcpu(2): the CPU the task's thread runs on now (the sandbox shows the host's CPUs, see
    /// sched_getaffinity), or, when the task's recorded affinity excludes it, the first CPU it
    /// allows (the host schedules Sentry's threads, but a program pinned to a CPU must see that
    /// CPU); NUMA node 0, the only one the sandbox has. The cache argument is unused, as on Linux since 2.6.24.
    /// </summary>
    static long GetCpu(Task t, in SyscallArgs a)
    {
        uint cpu = CurrentCpu(t), node = 0;
        if (a.A0 != 0 && t.Mm.Write(a.A0, cpu) < 0) return -Errno.EFAULT;
        if (a.A1 != 0 && t.Mm.Write(a.A1, node) < 0) return -Errno.EFAULT;
        return 0;
    }

    /// <summary>The CPU the task is said to run on (getcpu, rseq's cpu_id).</summary>
    internal static uint CurrentCpu(Task t)
    {
        int cpu = Thread.GetCurrentProcessorId() % Environment.ProcessorCount;
        return (uint)(t.Sched.Allows(cpu) ? cpu : t.Sched.FirstCpu());
    }

    static long GetRandom(Task t, in SyscallArgs a)
    {
        int flags = (int)a.A2;
        if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) != 0) return -Errno.EINVAL;
        if ((flags & (GRND_RANDOM | GRND_INSECURE)) == (GRND_RANDOM | GRND_INSECURE)) return -Errno.EINVAL;
        long count = (long)Math.Min(a.A1, (ulong)MAX_RW_COUNT);
        long done = 0;
        while (done < count)
        {
            int n = (int)Math.Min(count - done, t.Bounce.Length);
            HostRandom.Fill(t.Bounce.AsSpan(0, n));
            if (t.Mm.CopyOut(a.A0 + (ulong)done, t.Bounce.AsSpan(0, n)) < 0) return done > 0 ? done : -Errno.EFAULT;
            done += n;
        }
        return done;
    }
}
