using System.Runtime.InteropServices;
using Sentry.Platform;

namespace Sentry.Platform.Ptrace;

/// <summary>
/// Runs application code with PTRACE_SYSEMU in the calling thread's own stub thread of the
/// address space. Every round trip is: load registers, resume, wait for the stop, read registers.
/// Must be used from the one thread that created it (ptrace accepts requests only from the tracer).
/// </summary>
internal sealed unsafe class PtraceContext : IContext
{
    // siginfo_t: si_signo, si_errno, si_code (ints), then padding to 16 and si_addr.
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    struct SigInfo { public int si_signo, si_errno, si_code, _pad; public ulong si_addr; }

    const long SYS_tgkill = 234;

    volatile StubThread? _running;
    volatile bool _interruptRequested;
    StubThread? _last;

    public SwitchResult Switch(IAddressSpace addressSpace, CpuState state)
    {
        var thread = ((PtraceAddressSpace)addressSpace).ThreadForCaller();
        if (thread != _last) lock (_threads) if (!_threads.Contains(thread)) _threads.Add(thread);
        _last = thread;
        int tid = thread.Tid;
        if (thread.InterruptPending || _interruptRequested)
        {
            thread.InterruptPending = false;
            _interruptRequested = false;
            return SwitchResult.Interrupted;
        }
        // orig_rax = -1: the host must never apply its own syscall-restart logic to our registers.
        state.Regs.orig_rax = ulong.MaxValue;
        Ptrace.SetRegs(tid, ref state.Regs);
        if (state.FpDirty)
        {
            fixed (byte* fp = state.Fp) Ptrace.Request(Ptrace.PTRACE_SETFPREGS, tid, 0, (long)fp);
            state.FpDirty = false;
        }
        _running = thread;
        if (_interruptRequested) { _running = null; _interruptRequested = false; return SwitchResult.Interrupted; }
        Ptrace.Request(Ptrace.PTRACE_SYSEMU, tid, 0, 0);
        Ptrace.Wait(tid, out int status);
        _running = null;
        if (!Ptrace.Stopped(status))
        {
            thread.Dead = true;
            throw new StubDiedException(status);
        }
        Ptrace.GetRegs(tid, ref state.Regs);
        int sig = Ptrace.StopSignal(status);
        if (sig == (Ptrace.SIGTRAP | 0x80))
            return SwitchResult.Syscall;
        if (sig == Ptrace.InterruptSignal || (status >> 16) == Ptrace.PTRACE_EVENT_STOP || sig == Ptrace.SIGSTOP)
        {
            _interruptRequested = false;
            return SwitchResult.Interrupted;
        }
        SigInfo si = default;
        Ptrace.Request(Ptrace.PTRACE_GETSIGINFO, tid, 0, (long)&si);
        if (sig == Ptrace.SIGSEGV && si.si_code > 0)
        {
            // SEGV_ACCERR on a page Sentry mapped means the access needed more rights than the
            // mapping has (a write to a read-only page); SEGV_MAPERR says nothing about the kind.
            var access = si.si_code == 2 ? AccessType.Write : AccessType.Unknown;
            return new SwitchResult(SwitchReason.PageFault, si.si_addr, access, sig, si.si_code);
        }
        return new SwitchResult(SwitchReason.Fault, si.si_addr, AccessType.None, sig, si.si_code);
    }

    public void LoadFpState(CpuState state)
    {
        // The caller runs on the tracer thread between switches, so the stub thread is stopped.
        if (_last == null || _last.Dead || state.FpDirty) return;
        fixed (byte* fp = state.Fp) Ptrace.Request(Ptrace.PTRACE_GETFPREGS, _last.Tid, 0, (long)fp);
    }

    public void Interrupt()
    {
        _interruptRequested = true;
        var t = _running;
        if (t != null) HostSyscall.Call(SYS_tgkill, t.ProcessPid, t.Tid, Ptrace.InterruptSignal);
    }

    long _releasedUserNs;
    readonly List<StubThread> _threads = new();

    /// <summary>The application's CPU time is the stub threads' CPU time (they run nothing else).</summary>
    public long UserTimeNs
    {
        get
        {
            long sum = _releasedUserNs;
            lock (_threads)
                foreach (var t in _threads) if (!t.Dead) sum += HostSyscall.ForeignThreadCpuTimeNs(t.Tid);
            return sum;
        }
    }

    public void Release(IAddressSpace addressSpace)
    {
        var aspace = (PtraceAddressSpace)addressSpace;
        var mine = aspace.CallerThread();
        if (mine != null)
        {
            _releasedUserNs += HostSyscall.ForeignThreadCpuTimeNs(mine.Tid);
            lock (_threads) _threads.Remove(mine);
        }
        aspace.ReleaseCaller();
        if (_last != null && _last.Dead) _last = null;
    }

    public void Dispose() { }
}

/// <summary>The stub process exited or was killed under Sentry (host OOM killer, external kill).</summary>
public sealed class StubDiedException(int status) : Exception($"ptrace stub died unexpectedly (wait status 0x{status:x})")
{
    public int Status { get; } = status;
}
