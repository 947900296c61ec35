using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace Sentry.Platform.Ptrace;

/// <summary>
/// Runs application code in a stub with PTRACE_SYSEMU. Every round trip is: load registers,
/// resume, wait for the stop, read registers. Must be used from the thread that created the
/// address space's stub (ptrace requests are accepted only from the tracing thread).
/// </summary>
internal sealed unsafe class PtraceContext : IContext
{
    // siginfo_t: si_signo, si_errno, si_code (ints), then padding to 16 and si_addr.
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    struct SigInfo { public int si_signo, si_errno, si_code, _pad; public ulong si_addr; }

    volatile int _runningPid;
    volatile bool _interruptRequested;
    int _lastPid;

    public SwitchResult Switch(IAddressSpace addressSpace, CpuState state)
    {
        var stub = ((PtraceAddressSpace)addressSpace).Stub;
        int pid = stub.Pid;
        if (stub._interruptPending || _interruptRequested)
        {
            stub._interruptPending = false;
            _interruptRequested = false;
            return SwitchResult.Interrupted;
        }
        Ptrace.SetRegs(pid, ref state.Regs);
        if (state.FpDirty)
        {
            fixed (byte* fp = state.Fp) Ptrace.Request(Ptrace.PTRACE_SETFPREGS, pid, 0, (long)fp);
            state.FpDirty = false;
        }
        _lastPid = pid;
        _runningPid = pid;
        Ptrace.Request(Ptrace.PTRACE_SYSEMU, pid, 0, 0);
        Ptrace.Wait(pid, out int status);
        _runningPid = 0;
        if (!Ptrace.Stopped(status))
            throw new StubDiedException(status);
        Ptrace.GetRegs(pid, ref state.Regs);
        int sig = Ptrace.StopSignal(status);
        if (sig == (Ptrace.SIGTRAP | 0x80))
            return SwitchResult.Syscall;
        if (sig == Ptrace.SIGSTOP)
        {
            _interruptRequested = false;
            return SwitchResult.Interrupted;
        }
        SigInfo si = default;
        Ptrace.Request(Ptrace.PTRACE_GETSIGINFO, pid, 0, (long)&si);
        if (sig == Ptrace.SIGSEGV && si.si_code > 0)
        {
            // SEGV_ACCERR on a page Sentry mapped means the access needed more rights than the
            // mapping has (a write to read-only or CoW page); SEGV_MAPERR says nothing about the kind.
            var access = si.si_code == 2 ? AccessType.Write : AccessType.Unknown;
            return new SwitchResult(SwitchReason.PageFault, si.si_addr, access, sig, si.si_code);
        }
        return new SwitchResult(SwitchReason.Fault, si.si_addr, AccessType.None, sig, si.si_code);
    }

    public void LoadFpState(CpuState state)
    {
        // The caller runs on the tracer thread between switches, so the stub is stopped.
        if (_lastPid == 0) return;
        if (state.FpDirty) return; // the kernel's copy is newer than the stub's
        fixed (byte* fp = state.Fp) Ptrace.Request(Ptrace.PTRACE_GETFPREGS, _lastPid, 0, (long)fp);
    }


    public void Interrupt()
    {
        _interruptRequested = true;
        int pid = _runningPid;
        if (pid != 0) kill(pid, Ptrace.SIGSTOP);
    }

    public void Dispose() { }
}

/// <summary>The stub process exited or was killed under Sentry (host OOM killer, external kill).</summary>
public sealed class StubDiedException(int status) : Exception($"ptrace stub died unexpectedly (wait status 0x{status:x})")
{
    public int Status { get; } = status;
}
