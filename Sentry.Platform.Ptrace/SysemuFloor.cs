namespace Sentry.Platform.Ptrace;

/// <summary>
/// The ptrace floor: the cheapest possible PTRACE_SYSEMU round trip (set registers, resume, wait
/// for the syscall stop, read registers) against a stub looping on <c>getppid</c>, with no kernel
/// behind it. Benchmarks report the sandbox's null syscall next to this. Use from one thread.
/// </summary>
public sealed class SysemuFloor : IDisposable
{
    readonly MemoryFile _memory = new(1L << 20);
    readonly StubProcess _stub;
    UserRegs _regs;

    public SysemuFloor()
    {
        _stub = new StubProcess(_memory);
        Ptrace.GetRegs(_stub.Pid, ref _regs);
        _regs.rip = StubImage.SyscallLoop;
    }

    /// <summary>One trapped syscall round trip.</summary>
    public void RoundTrip()
    {
        _regs.rax = 110; // getppid
        Ptrace.SetRegs(_stub.Pid, ref _regs);
        Ptrace.Request(Ptrace.PTRACE_SYSEMU, _stub.Pid, 0, 0);
        Ptrace.Wait(_stub.Pid, out _);
        Ptrace.GetRegs(_stub.Pid, ref _regs);
    }

    public void Dispose()
    {
        _stub.Dispose();
        _memory.Dispose();
    }
}
