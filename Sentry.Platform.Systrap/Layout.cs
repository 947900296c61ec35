namespace Sentry.Platform.Systrap;

/// <summary>
/// Where the stub lives in every application address space, and the layout of the region it
/// shares with Sentry. Everything here sits above <see cref="SystrapPlatform.MaxUserAddress"/>, so
/// the application's mmap (answered by Sentry) can never place anything over it.
/// <para>
/// The shared region is one memfd per stub process, mapped MAP_SHARED into the stub at
/// <see cref="SharedBase"/> and into Sentry anywhere. It is cut into <see cref="MaxSlots"/> slots of
/// <see cref="SlotSize"/> bytes, each aligned to its size: slot 0 is the header (the seccomp program, the
/// signal action; read-only in the stub once set up), slot 1 the channel of the stub's control thread; every other slot belongs to one stub thread (one task) and holds the
/// handoff words, the queue of address-space operations, and that thread's signal stack, so the
/// signal handler finds its slot from its own stack pointer.
/// </para>
/// </summary>
internal static class Layout
{
    /// <summary>The stub's code (a tiny static ELF).</summary>
    public const ulong CodeBase = 0x7fff_fff0_0000;
    public const ulong CodeSize = 0x2000;
    /// <summary>End of the host's user address space on x86-64 (TASK_SIZE, 47-bit).</summary>
    public const ulong TaskSize = 0x7fff_ffff_f000;

    public const ulong SharedBase = 0x7fff_e000_0000;
    public const int SlotShift = 16;
    public const ulong SlotSize = 1UL << SlotShift;
    public const int MaxSlots = 2048;
    /// <summary>Slot of the stub's control thread; slot 0 is the header (read-only in the stub once it is set up).</summary>
    public const int ControlSlot = 1;
    public const ulong SharedSize = SlotSize * MaxSlots;

    /// <summary>Descriptor numbers inside the stub: the sandbox's memory file and (until mapped) the shared region.</summary>
    public const int MemoryFd = 100, SharedFd = 101;

    // ---- a slot --------------------------------------------------------------------------
    /// <summary>u32 handoff word: <see cref="Running"/>, <see cref="Posted"/> (Sentry's turn), <see cref="Commanded"/> (stub's turn).</summary>
    public const int State = 0x00;
    public const int StubWaiting = 0x04;
    public const int SentryWaiting = 0x08;
    /// <summary>u32: what Sentry asks with <see cref="Commanded"/>.</summary>
    public const int Command = 0x0c;
    /// <summary>u32: how many pause iterations the stub spins before it sleeps on the futex.</summary>
    public const int Spin = 0x10;
    /// <summary>u32: the stub thread's host tid (CLONE_CHILD_SETTID), cleared by the host when it exits (CLONE_CHILD_CLEARTID).</summary>
    public const int Tid = 0x14;
    /// <summary>u64: stub address of the ucontext of the signal being handled.</summary>
    public const int Ucontext = 0x18;
    /// <summary>u64: stub address of its siginfo.</summary>
    public const int Siginfo = 0x20;
    /// <summary>u32: the signal number.</summary>
    public const int Signo = 0x28;
    /// <summary>u32: number of queued operations in <see cref="Ops"/>.</summary>
    public const int OpCount = 0x2c;
    /// <summary>u64: fs base Sentry wants / the one the thread has.</summary>
    public const int FsWant = 0x30, FsHave = 0x38, GsWant = 0x40, GsHave = 0x48;
    /// <summary>Control slot: u64 slot address for a new thread, u64 result of the last clone.</summary>
    public const int CloneSlot = 0x50;
    public const int CloneResult = 0x58;
    /// <summary>Header: sock_fprog {u16 len; u64 filter} at 0x60, the rt_sigaction struct at 0x80, u32 FSGSBASE usable at 0x70, u32 setup error at 0x74.</summary>
    public const int Fprog = 0x60, HasFsgsbase = 0x70, SetupError = 0x74, SigAction = 0x80;
    /// <summary>Queued host calls: {nr, a1..a6, result} of 8 bytes each.</summary>
    public const int Ops = 0x100;
    public const int OpSize = 64;
    public const int MaxOps = (0x1000 - Ops) / OpSize;
    /// <summary>Header: the BPF program.</summary>
    public const int Filter = 0x1000;
    /// <summary>Stack of a stub thread (its signal stack), up to the end of the slot.</summary>
    public const int StackOffset = 0x2000;

    // Handoff states.
    public const uint Running = 0, Posted = 1, Commanded = 2;
    // Commands.
    public const uint CmdResume = 1, CmdOps = 2, CmdExit = 3, CmdClone = 4;

    /// <summary>Signal Sentry sends a stub thread to make it trap (Interrupt()).</summary>
    public const int KickSignal = 23; // SIGURG
}
