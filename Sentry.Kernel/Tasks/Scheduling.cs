using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Tasks;

/// <summary>
/// A task's scheduling attributes as Linux keeps them (policy, real-time priority, nice, I/O
/// priority, CPU affinity), recorded and reported back: Sentry's host threads are scheduled by the
/// host, which the application may not steer. Guarded by the sandbox's tree lock for writes from
/// other tasks; a task reading its own fields needs no lock.
/// </summary>
public sealed class Scheduling
{
    public const int SCHED_NORMAL = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6, SCHED_EXT = 7;
    public const int SCHED_RESET_ON_FORK = 0x40000000;
    public const int MAX_RT_PRIO = 100, MIN_NICE = -20, MAX_NICE = 19;
    /// <summary>IOPRIO_CLASS_* sit at bit 13; the low 3 bits are the level, bits 3..12 hints.</summary>
    public const int IOPRIO_CLASS_NONE = 0, IOPRIO_CLASS_RT = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_IDLE = 3, IOPRIO_CLASS_SHIFT = 13;
    /// <summary>What IOPRIO_WHO_PGRP and IOPRIO_WHO_USER count a task without an I/O priority as: best effort, level 4.</summary>
    public const int IOPRIO_DEFAULT = IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT | 4;

    public int Policy;
    public bool ResetOnFork;
    /// <summary>Real-time priority, 1..99 under SCHED_FIFO/SCHED_RR, else 0.</summary>
    public int RtPriority;
    public int Nice;
    public int IoPrio;
    /// <summary>SCHED_DEADLINE parameters in nanoseconds.</summary>
    public ulong Runtime, Deadline, Period;
    /// <summary>CPUs the task may run on, one bit each; null: every CPU. Replaced, never changed in place, so children share it.</summary>
    public ulong[]? Affinity;

    public static bool ValidPolicy(int policy) => policy is SCHED_NORMAL or SCHED_FIFO or SCHED_RR or SCHED_BATCH or SCHED_IDLE or SCHED_DEADLINE or SCHED_EXT;
    public static bool RtPolicy(int policy) => policy is SCHED_FIFO or SCHED_RR;
    public static bool FairPolicy(int policy) => policy is SCHED_NORMAL or SCHED_BATCH or SCHED_IDLE or SCHED_EXT;

    /// <summary>
    /// The fair class's time slice: EEVDF's base slice, 0.7 ms scaled by 1 + log2 of the CPUs (at
    /// most 8), as sched_getattr's sched_runtime and sched_rr_get_interval report it.
    /// </summary>
    public static ulong FairSlice => 700_000UL * (ulong)(1 + Math.Log2(Math.Min(Environment.ProcessorCount, 8)));

    /// <summary>What a child (thread or process) starts with: a copy, reset to SCHED_NORMAL and nice >= 0 if SCHED_RESET_ON_FORK was asked.</summary>
    public Scheduling ForChild()
    {
        var c = (Scheduling)MemberwiseClone();
        if (ResetOnFork)
        {
            if (!FairPolicy(Policy)) { c.Policy = SCHED_NORMAL; c.RtPriority = 0; c.Runtime = c.Deadline = c.Period = 0; }
            if (c.Nice < 0) c.Nice = 0;
            c.ResetOnFork = false;
        }
        return c;
    }

    /// <summary>Whether this task runs on <paramref name="cpu"/>.</summary>
    public bool Allows(int cpu) => Affinity is not { } m || (cpu / 64 < m.Length && (m[cpu / 64] & (1UL << (cpu % 64))) != 0);

    /// <summary>The lowest CPU the task may run on.</summary>
    public int FirstCpu()
    {
        if (Affinity is not { } m) return 0;
        for (int i = 0; i < m.Length; i++)
            if (m[i] != 0) return i * 64 + System.Numerics.BitOperations.TrailingZeroCount(m[i]);
        return 0;
    }

    /// <summary>ioprio_check_cap without the capability part: EINVAL for an unknown class, a level beside IOPRIO_CLASS_NONE or an unknown hint.</summary>
    public static bool ValidIoPrio(int ioprio)
    {
        int cls = (ioprio >> IOPRIO_CLASS_SHIFT) & 7, level = ioprio & 7, hint = (ioprio >> 3) & 0x3ff;
        if (hint > 7) return false; // IOPRIO_HINT_DEV_DURATION_LIMIT_1..7
        return cls switch
        {
            IOPRIO_CLASS_RT or IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE => true,
            IOPRIO_CLASS_NONE => level == 0,
            _ => false,
        };
    }

    /// <summary>ioprio_best: the higher of two I/O priorities, a task without one counting as <see cref="IOPRIO_DEFAULT"/>.</summary>
    public static int BestIoPrio(int a, int b)
    {
        if ((a >> IOPRIO_CLASS_SHIFT & 7) == IOPRIO_CLASS_NONE) a = IOPRIO_DEFAULT;
        if ((b >> IOPRIO_CLASS_SHIFT & 7) == IOPRIO_CLASS_NONE) b = IOPRIO_DEFAULT;
        return Math.Min(a, b);
    }

    /// <summary>can_nice: lowering nice to <paramref name="nice"/> is allowed by RLIMIT_NICE (20 - nice at most) or root.</summary>
    public static bool CanNice(Task t, int nice) => t.Uid == 0 || (ulong)(20 - nice) <= t.Limits[Linux.RLIMIT_NICE].Cur;
}
