using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Tasks.Scheduling;

namespace Sentry.Kernel.Syscalls;

// Scheduling attributes (kernel/sched/syscalls.c): policies, priorities, nice values, I/O
// priorities, affinity. Each is recorded per task and reported back (Tasks/Scheduling.cs); the
// sandbox's root has CAP_SYS_NICE, as root in a container natively, so real-time policies are its to set.
public static partial class Sys
{
    const int SETPARAM_POLICY = -1, PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;
    const int IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2, IOPRIO_WHO_USER = 3;
    const ulong SCHED_FLAG_RESET_ON_FORK = 1, SCHED_FLAG_KEEP_POLICY = 8, SCHED_FLAG_KEEP_PARAMS = 0x10,
        SCHED_FLAG_UTIL_CLAMP = 0x60, SCHED_FLAG_ALL = 0x7f, SCHED_FLAG_SUGOV = 0x10000000;
    const int SCHED_ATTR_SIZE_VER0 = 48, SCHED_ATTR_SIZE_VER1 = 56;

    internal static void RegisterSched(SyscallHandler?[] t)
    {
        t[144] = SchedSetscheduler; t[145] = SchedGetscheduler; t[142] = SchedSetparam; t[143] = SchedGetparam;
        t[146] = (Task k, in SyscallArgs a) => PriorityBound((int)a.A0, max: true);
        t[147] = (Task k, in SyscallArgs a) => PriorityBound((int)a.A0, max: false);
        t[148] = SchedRrGetInterval; t[314] = SchedSetattr; t[315] = SchedGetattr;
        t[140] = GetPriority; t[141] = SetPriority; t[251] = IoprioSet; t[252] = IoprioGet;
        t[203] = SchedSetAffinity;
    }

    /// <summary>The task a scheduling call names: 0 is the caller, anything else a thread id of the sandbox.</summary>
    static Task? SchedTarget(Task t, int pid) => pid == 0 ? t : t.Sandbox.FindTask(pid);

    static long PriorityBound(int policy, bool max) =>
        RtPolicy(policy) ? (max ? MAX_RT_PRIO - 1 : 1) : ValidPolicy(policy) ? 0 : -Errno.EINVAL;

    /// <summary>The parts of struct sched_attr a change carries.</summary>
    struct SchedChange
    {
        public int Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime, Deadline, Period;
    }

    static long SchedSetscheduler(Task t, in SyscallArgs a)
    {
        int policy = (int)a.A1;
        if (policy < 0) return -Errno.EINVAL;
        return SetschedulerFromParam(t, (int)a.A0, policy, a.A2);
    }

    static long SchedSetparam(Task t, in SyscallArgs a) => SetschedulerFromParam(t, (int)a.A0, SETPARAM_POLICY, a.A1);

    static long SetschedulerFromParam(Task t, int pid, int policy, ulong param)
    {
        if (param == 0 || pid < 0) return -Errno.EINVAL;
        if (t.Mm.Read(param, out int priority) < 0) return -Errno.EFAULT;
        var target = SchedTarget(t, pid);
        if (target == null) return -Errno.ESRCH;
        var c = new SchedChange { Policy = policy, Priority = (uint)priority, Nice = target.Sched.Nice };
        if (policy >= 0 && (policy & SCHED_RESET_ON_FORK) != 0) { c.Flags |= SCHED_FLAG_RESET_ON_FORK; c.Policy = policy & ~SCHED_RESET_ON_FORK; }
        return ApplySched(t, target, c);
    }

    /// <summary>__sched_setscheduler: validation in Linux's order, permission, then the change.</summary>
    static long ApplySched(Task t, Task target, SchedChange c)
    {
        var s = target.Sched;
        bool resetOnFork;
        int policy = c.Policy;
        if (policy == SETPARAM_POLICY) { resetOnFork = s.ResetOnFork; policy = s.Policy; }
        else
        {
            resetOnFork = (c.Flags & SCHED_FLAG_RESET_ON_FORK) != 0;
            if (!ValidPolicy(policy)) return -Errno.EINVAL;
        }
        if ((c.Flags & ~(SCHED_FLAG_ALL | SCHED_FLAG_SUGOV)) != 0) return -Errno.EINVAL;
        if (c.Priority > MAX_RT_PRIO - 1) return -Errno.EINVAL;
        if (policy == SCHED_DEADLINE && !ValidDeadline(c)) return -Errno.EINVAL;
        if (RtPolicy(policy) != (c.Priority != 0)) return -Errno.EINVAL;
        if (t.Uid != 0)
        {
            // user_check_sched_setscheduler for a task without CAP_SYS_NICE.
            if (FairPolicy(policy) && c.Nice < s.Nice && !CanNice(t, c.Nice)) return -Errno.EPERM;
            if (RtPolicy(policy))
            {
                ulong rlim = target.Limits[Linux.RLIMIT_RTPRIO].Cur;
                if (policy != s.Policy && rlim == 0) return -Errno.EPERM;
                if (c.Priority > s.RtPriority && c.Priority > rlim) return -Errno.EPERM;
            }
            if (policy == SCHED_DEADLINE) return -Errno.EPERM;
            if (s.Policy == SCHED_IDLE && policy != SCHED_IDLE && !CanNice(t, s.Nice)) return -Errno.EPERM;
            if (target.Uid != t.Uid) return -Errno.EPERM;
            if (s.ResetOnFork && !resetOnFork) return -Errno.EPERM;
        }
        lock (t.Sandbox.TreeLock)
        {
            s.Policy = policy;
            s.ResetOnFork = resetOnFork;
            s.RtPriority = (int)c.Priority;
            if (FairPolicy(policy)) s.Nice = Math.Clamp(c.Nice, MIN_NICE, MAX_NICE);
            if (policy == SCHED_DEADLINE) { s.Runtime = c.Runtime; s.Deadline = c.Deadline; s.Period = c.Period; }
            else s.Runtime = s.Deadline = s.Period = 0;
        }
        return 0;
    }

    /// <summary>__checkparam_dl: a deadline, a runtime of at least 1 µs-ish (2^10 ns) not past it, a period not before it, all below 2^63.</summary>
    static bool ValidDeadline(in SchedChange c)
    {
        if (c.Deadline == 0) return false;
        if (c.Runtime < 1024) return false;
        if ((c.Deadline & (1UL << 63)) != 0 || (c.Period & (1UL << 63)) != 0) return false;
        ulong period = c.Period == 0 ? c.Deadline : c.Period;
        return c.Runtime <= c.Deadline && c.Deadline <= period;
    }

    static long SchedGetscheduler(Task t, in SyscallArgs a)
    {
        if ((int)a.A0 < 0) return -Errno.EINVAL;
        var target = SchedTarget(t, (int)a.A0);
        if (target == null) return -Errno.ESRCH;
        return target.Sched.Policy | (target.Sched.ResetOnFork ? SCHED_RESET_ON_FORK : 0);
    }

    static long SchedGetparam(Task t, in SyscallArgs a)
    {
        if (a.A1 == 0 || (int)a.A0 < 0) return -Errno.EINVAL;
        var target = SchedTarget(t, (int)a.A0);
        if (target == null) return -Errno.ESRCH;
        return Put(t, a.A1, RtPolicy(target.Sched.Policy) ? target.Sched.RtPriority : 0);
    }

    static long SchedRrGetInterval(Task t, in SyscallArgs a)
    {
        if ((int)a.A0 < 0) return -Errno.EINVAL;
        var target = SchedTarget(t, (int)a.A0);
        if (target == null) return -Errno.ESRCH;
        // RR_TIMESLICE is 100 ms; FIFO has none; the fair class reports its slice.
        ulong ns = target.Sched.Policy switch { SCHED_RR => 100_000_000, SCHED_FIFO or SCHED_DEADLINE => 0, _ => FairSlice };
        Span<long> ts = [(long)(ns / 1_000_000_000), (long)(ns % 1_000_000_000)];
        return t.Mm.CopyOut(a.A1, System.Runtime.InteropServices.MemoryMarshal.AsBytes(ts)) < 0 ? -Errno.EFAULT : 0;
    }

    static long SchedSetattr(Task t, in SyscallArgs a)
    {
        int pid = (int)a.A0;
        ulong uattr = a.A1;
        if (uattr == 0 || pid < 0 || a.A2 != 0) return -Errno.EINVAL;
        // sched_copy_attr: size 0 is VER0; a size Linux cannot take is answered with its own (E2BIG).
        if (t.Mm.Read(uattr, out uint size) < 0) return -Errno.EFAULT;
        if (size == 0) size = SCHED_ATTR_SIZE_VER0;
        Span<byte> buf = stackalloc byte[SCHED_ATTR_SIZE_VER1];
        buf.Clear();
        if (size < SCHED_ATTR_SIZE_VER0 || size > 4096) return Put(t, uattr, (uint)SCHED_ATTR_SIZE_VER1) < 0 ? -Errno.EFAULT : -Errno.E2BIG;
        if (t.Mm.CopyIn(uattr, buf[..(int)Math.Min(size, SCHED_ATTR_SIZE_VER1)]) < 0) return -Errno.EFAULT;
        if (size > SCHED_ATTR_SIZE_VER1)
        {
            // copy_struct_from_user: bytes past what the kernel knows must be zero.
            Span<byte> tail = stackalloc byte[64];
            for (ulong off = SCHED_ATTR_SIZE_VER1; off < size; off += 64)
            {
                int n = (int)Math.Min(64, size - off);
                if (t.Mm.CopyIn(uattr + off, tail[..n]) < 0) return -Errno.EFAULT;
                if (tail[..n].IndexOfAnyExcept((byte)0) >= 0) return Put(t, uattr, (uint)SCHED_ATTR_SIZE_VER1) < 0 ? -Errno.EFAULT : -Errno.E2BIG;
            }
        }
        var c = new SchedChange
        {
            Policy = BitConverter.ToInt32(buf[4..]), Flags = BitConverter.ToUInt64(buf[8..]),
            Nice = Math.Clamp(BitConverter.ToInt32(buf[16..]), MIN_NICE, MAX_NICE), Priority = BitConverter.ToUInt32(buf[20..]),
            Runtime = BitConverter.ToUInt64(buf[24..]), Deadline = BitConverter.ToUInt64(buf[32..]), Period = BitConverter.ToUInt64(buf[40..]),
        };
        if ((c.Flags & SCHED_FLAG_UTIL_CLAMP) != 0 && size < SCHED_ATTR_SIZE_VER1) return -Errno.EINVAL;
        if (c.Policy < 0) return -Errno.EINVAL;
        if ((c.Flags & SCHED_FLAG_KEEP_POLICY) != 0) c.Policy = SETPARAM_POLICY;
        var target = SchedTarget(t, pid);
        if (target == null) return -Errno.ESRCH;
        if ((c.Flags & SCHED_FLAG_KEEP_PARAMS) != 0)
        {
            var s = target.Sched;
            c.Priority = (uint)s.RtPriority; c.Nice = s.Nice; c.Runtime = s.Runtime; c.Deadline = s.Deadline; c.Period = s.Period;
        }
        return ApplySched(t, target, c);
    }

    static long SchedGetattr(Task t, in SyscallArgs a)
    {
        int pid = (int)a.A0;
        uint usize = (uint)a.A2;
        if (a.A1 == 0 || pid < 0 || usize > 4096 || usize < SCHED_ATTR_SIZE_VER0 || a.A3 != 0) return -Errno.EINVAL;
        var target = SchedTarget(t, pid);
        if (target == null) return -Errno.ESRCH;
        var s = target.Sched;
        Span<byte> buf = stackalloc byte[SCHED_ATTR_SIZE_VER1];
        buf.Clear();
        BitConverter.TryWriteBytes(buf, Math.Min(usize, (uint)SCHED_ATTR_SIZE_VER1));
        BitConverter.TryWriteBytes(buf[4..], s.Policy);
        BitConverter.TryWriteBytes(buf[8..], s.ResetOnFork ? SCHED_FLAG_RESET_ON_FORK : 0UL);
        if (s.Policy == SCHED_DEADLINE)
        {
            BitConverter.TryWriteBytes(buf[24..], s.Runtime);
            BitConverter.TryWriteBytes(buf[32..], s.Deadline);
            BitConverter.TryWriteBytes(buf[40..], s.Period);
        }
        else if (RtPolicy(s.Policy)) BitConverter.TryWriteBytes(buf[20..], s.RtPriority);
        else
        {
            BitConverter.TryWriteBytes(buf[16..], s.Nice);
            BitConverter.TryWriteBytes(buf[24..], FairSlice);
        }
        BitConverter.TryWriteBytes(buf[52..], 1024u); // sched_util_max: no clamp
        int n = (int)Math.Min(usize, (uint)SCHED_ATTR_SIZE_VER1);
        if (t.Mm.CopyOut(a.A1, buf[..n]) < 0) return -Errno.EFAULT;
        // copy_struct_to_user clears what the caller's larger struct has beyond the kernel's.
        buf.Clear();
        for (ulong off = SCHED_ATTR_SIZE_VER1; off < usize; off += SCHED_ATTR_SIZE_VER1)
            if (t.Mm.CopyOut(a.A1 + off, buf[..(int)Math.Min(SCHED_ATTR_SIZE_VER1, usize - off)]) < 0) return -Errno.EFAULT;
        return 0;
    }

    /// <summary>The tasks a PRIO_*/IOPRIO_WHO_* pair names (every thread, as Linux iterates them); empty when none.</summary>
    static List<Task> PriorityTargets(Task t, int which, int who)
    {
        var list = new List<Task>();
        switch (which)
        {
            case PRIO_PROCESS:
                if (SchedTarget(t, who) is { } one) list.Add(one);
                break;
            case PRIO_PGRP:
            {
                int pgid = who == 0 ? t.Group.Pgid : who;
                lock (t.Sandbox.TreeLock)
                    foreach (var g in t.Sandbox.LiveGroupsUnlocked())
                        if (g.Pgid == pgid) list.AddRange(g.Threads);
                break;
            }
            case PRIO_USER:
            {
                uint uid = who == 0 ? t.Uid : (uint)who;
                lock (t.Sandbox.TreeLock)
                    foreach (var g in t.Sandbox.LiveGroupsUnlocked())
                        foreach (var th in g.Threads)
                            if (th.Uid == uid) list.Add(th);
                break;
            }
        }
        return list;
    }

    static long GetPriority(Task t, in SyscallArgs a)
    {
        int which = (int)a.A0;
        if (which is < PRIO_PROCESS or > PRIO_USER) return -Errno.EINVAL;
        long best = -Errno.ESRCH;
        // The raw call answers 20 - nice, so the result is never negative; libc undoes it.
        foreach (var th in PriorityTargets(t, which, (int)a.A1)) best = Math.Max(best, 20 - th.Sched.Nice);
        return best;
    }

    static long SetPriority(Task t, in SyscallArgs a)
    {
        int which = (int)a.A0;
        if (which is < PRIO_PROCESS or > PRIO_USER) return -Errno.EINVAL;
        int nice = Math.Clamp((int)a.A2, MIN_NICE, MAX_NICE);
        long error = -Errno.ESRCH;
        foreach (var th in PriorityTargets(t, which, (int)a.A1))
        {
            // set_one_prio: another user's task takes privilege (EPERM), a lower nice RLIMIT_NICE (EACCES).
            if (t.Uid != 0 && th.Uid != t.Uid) { error = -Errno.EPERM; continue; }
            if (nice < th.Sched.Nice && !CanNice(t, nice)) { error = -Errno.EACCES; continue; }
            lock (t.Sandbox.TreeLock) th.Sched.Nice = nice;
            if (error == -Errno.ESRCH) error = 0;
        }
        return error;
    }

    static long IoprioSet(Task t, in SyscallArgs a)
    {
        int which = (int)a.A0, who = (int)a.A1, ioprio = (int)a.A2;
        if (!ValidIoPrio(ioprio)) return -Errno.EINVAL;
        if (((ioprio >> IOPRIO_CLASS_SHIFT) & 7) == IOPRIO_CLASS_RT && t.Uid != 0) return -Errno.EPERM;
        if (which is < IOPRIO_WHO_PROCESS or > IOPRIO_WHO_USER) return -Errno.EINVAL;
        long r = -Errno.ESRCH;
        foreach (var th in PriorityTargets(t, which - 1, who))
        {
            if (t.Uid != 0 && th.Uid != t.Uid) { r = -Errno.EPERM; continue; }
            lock (t.Sandbox.TreeLock) th.Sched.IoPrio = ioprio;
            r = 0;
        }
        return r;
    }

    static long IoprioGet(Task t, in SyscallArgs a)
    {
        int which = (int)a.A0;
        if (which is < IOPRIO_WHO_PROCESS or > IOPRIO_WHO_USER) return -Errno.EINVAL;
        var targets = PriorityTargets(t, which - 1, (int)a.A1);
        if (targets.Count == 0) return -Errno.ESRCH;
        // One task answers its own value; a group or user the best of its tasks'.
        if (which == IOPRIO_WHO_PROCESS) return targets[0].Sched.IoPrio;
        int best = targets[0].Sched.IoPrio;
        for (int i = 1; i < targets.Count; i++) best = BestIoPrio(best, targets[i].Sched.IoPrio);
        return best;
    }

    /// <summary>Largest CPU mask read from the caller (8192 CPUs, NR_CPUS of distribution kernels); longer ones are cut, as Linux cuts to cpumask_size().</summary>
    const int MaxCpuMaskBytes = 1024;

    static long SchedSetAffinity(Task t, in SyscallArgs a)
    {
        int len = (int)Math.Min(a.A1, (ulong)MaxCpuMaskBytes);
        Span<byte> user = stackalloc byte[MaxCpuMaskBytes];
        user.Clear();
        if (t.Mm.CopyIn(a.A2, user[..len]) < 0) return -Errno.EFAULT;
        var target = SchedTarget(t, (int)a.A0);
        if (target == null) return -Errno.ESRCH;
        if (t.Uid != 0 && target.Uid != t.Uid) return -Errno.EPERM;
        // Only the sandbox's CPUs count: nothing left of them is EINVAL.
        int cpus = Environment.ProcessorCount;
        var mask = new ulong[(cpus + 63) / 64];
        bool any = false;
        for (int c = 0; c < cpus; c++)
            if ((user[c / 8] & (1 << (c % 8))) != 0) { mask[c / 64] |= 1UL << (c % 64); any = true; }
        if (!any) return -Errno.EINVAL;
        lock (t.Sandbox.TreeLock) target.Sched.Affinity = mask;
        return 0;
    }
}
