using System.Diagnostics;
using Sentry.Gofer.Abi;
using Sentry.Gofer.Confinement;

namespace Sentry.Gofer.Tests;

/// <summary>
/// The Gofer's seccomp filter, run through a BPF interpreter call by call (installing it is
/// covered by <see cref="GoferProcessTests"/>), and the machine-code signal handler that confines
/// the runtime's other threads, disassembled with objdump.
/// </summary>
public sealed class SeccompTests
{
    const int Pid = 4242;
    static readonly SockFilter[] Filter = Seccomp.Build(GoferSyscalls.Rules(Pid));
    const uint Allow = Seccomp.SECCOMP_RET_ALLOW;
    const uint Eperm = Seccomp.SECCOMP_RET_ERRNO | Errno.EPERM;

    static uint Verdict(int nr, params ulong[] args) => BpfInterpreter.Run(Filter, Seccomp.AUDIT_ARCH_X86_64, nr, args);

    [Test]
    public void Program_IsLoadable()
    {
        BpfInterpreter.Validate(Filter);
        TestContext.Out.WriteLine($"{Filter.Length} instructions for {GoferSyscalls.Rules(Pid).Count} rules");
    }

    [Test]
    public void OtherArchitectures_KillTheProcess_X32IsRefused()
    {
        Assert.That(BpfInterpreter.Run(Filter, 0x40000003 /* AUDIT_ARCH_I386 */, 3 /* i386 read */), Is.EqualTo(Seccomp.SECCOMP_RET_KILL_PROCESS));
        Assert.That(BpfInterpreter.Run(Filter, 0xC00000B7 /* AUDIT_ARCH_AARCH64 */, 0), Is.EqualTo(Seccomp.SECCOMP_RET_KILL_PROCESS));
        Assert.That(Verdict(0x40000000 | SyscallNumbers.SYS_read), Is.EqualTo(Eperm), "an x32 read");
    }

    [Test]
    public void EveryListedCall_IsAllowed()
    {
        foreach (SeccompRule r in GoferSyscalls.Rules(Pid).Where(r => r.Action == SeccompAction.Allow))
            Assert.That(Verdict(r.Nr, 1, 2, 3), Is.EqualTo(Allow), r.Name);
    }

    [TestCase(59, "execve")]
    [TestCase(322, "execveat")]
    [TestCase(57, "fork")]
    [TestCase(58, "vfork")]
    [TestCase(101, "ptrace")]
    [TestCase(165, "mount")]
    [TestCase(166, "umount2")]
    [TestCase(155, "pivot_root")]
    [TestCase(161, "chroot")]
    [TestCase(272, "unshare")]
    [TestCase(308, "setns")]
    [TestCase(304, "open_by_handle_at")]
    [TestCase(303, "name_to_handle_at")]
    [TestCase(41, "socket")]
    [TestCase(42, "connect")]
    [TestCase(49, "bind")]
    [TestCase(2, "open")]
    [TestCase(87, "unlink")]
    [TestCase(90, "chmod")]
    [TestCase(92, "chown")]
    [TestCase(105, "setuid")]
    [TestCase(126, "capset")]
    [TestCase(317, "seccomp")]
    [TestCase(175, "init_module")]
    [TestCase(246, "kexec_load")]
    [TestCase(169, "reboot")]
    [TestCase(250, "keyctl")]
    [TestCase(321, "bpf")]
    [TestCase(298, "perf_event_open")]
    [TestCase(62, "kill")]
    [TestCase(310, "process_vm_readv")]
    [TestCase(425, "io_uring_setup")]
    [TestCase(428, "open_tree")]
    [TestCase(429, "move_mount")]
    [TestCase(144, "sched_setscheduler")]
    public void CallsNotListed_AreEperm(int nr, string name) => Assert.That(Verdict(nr), Is.EqualTo(Eperm), name);

    [Test]
    public void Clone_OnlyForThreads_Clone3IsEnosys()
    {
        const ulong threadFlags = 0x3d0f00; // what glibc's pthread_create passes: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
        Assert.That(Verdict(SyscallNumbers.SYS_clone, threadFlags), Is.EqualTo(Allow));
        Assert.That(Verdict(SyscallNumbers.SYS_clone, 17 /* SIGCHLD: fork */), Is.EqualTo(Eperm));
        Assert.That(Verdict(SyscallNumbers.SYS_clone, 0x4111 /* CLONE_VM|CLONE_VFORK|SIGCHLD */), Is.EqualTo(Eperm));
        Assert.That(Verdict(SyscallNumbers.SYS_clone, 0x20000 | 17 /* CLONE_NEWNS */), Is.EqualTo(Eperm));
        Assert.That(Verdict(SyscallNumbers.SYS_clone3, 0x7fff0000, 88), Is.EqualTo(Seccomp.SECCOMP_RET_ERRNO | Errno.ENOSYS), "glibc then uses clone");
    }

    [Test]
    public void Signals_OnlyToTheProcessItself()
    {
        Assert.That(Verdict(SyscallNumbers.SYS_tgkill, Pid, 4243, 34), Is.EqualTo(Allow));
        Assert.That(Verdict(SyscallNumbers.SYS_tgkill, 1, 1, 9), Is.EqualTo(Eperm), "another process");
        Assert.That(Verdict(SyscallNumbers.SYS_tgkill, Pid + (1UL << 32), 1, 9), Is.EqualTo(Allow), "only the int the kernel reads counts");
    }

    [Test]
    public void Prctl_OnlyThreadNamesAndVmaNames()
    {
        Assert.That(Verdict(SyscallNumbers.SYS_prctl, 15 /* PR_SET_NAME */), Is.EqualTo(Allow));
        Assert.That(Verdict(SyscallNumbers.SYS_prctl, 16 /* PR_GET_NAME */), Is.EqualTo(Allow));
        Assert.That(Verdict(SyscallNumbers.SYS_prctl, 0x53564d41 /* PR_SET_VMA */), Is.EqualTo(Allow));
        foreach (ulong option in new ulong[] { 1 /* PR_SET_PDEATHSIG */, 4 /* DUMPABLE */, 22 /* SECCOMP */, 38 /* NO_NEW_PRIVS */, 47 /* CAP_AMBIENT */, 59 /* PR_SET_PTRACER... */, 0x59616d61 /* PR_SET_PTRACER */ })
            Assert.That(Verdict(SyscallNumbers.SYS_prctl, option), Is.EqualTo(Eperm), $"prctl {option}");
    }

    [Test]
    public void Rules_NameTheirNumbers()
    {
        // The numbers come from the constants; the names are for people: they must agree with the kernel's header.
        string header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
        if (!File.Exists(header)) Assert.Ignore($"{header} is not installed");
        var numbers = File.ReadLines(header).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 3 && f[0] == "#define" && f[1].StartsWith("__NR_", StringComparison.Ordinal))
            .ToDictionary(f => f[1][5..], f => int.Parse(f[2]));
        foreach (SeccompRule r in GoferSyscalls.Rules(Pid))
        {
            if (numbers.TryGetValue(r.Name, out int nr)) Assert.That(r.Nr, Is.EqualTo(nr), r.Name);
            else Assert.That(r.Nr, Is.GreaterThan(numbers.Values.Max()), $"{r.Name} is newer than the installed headers");
        }
    }

    /// <summary>The thread-confining signal handler is the code it means to be: objdump's reading of the bytes.</summary>
    [Test]
    public void ThreadHandler_DisassemblesToTheIntendedCalls()
    {
        if (!File.Exists("/usr/bin/objdump")) Assert.Ignore("objdump (binutils) is not installed");
        byte[] code = [.. AllThreads.Handler(0x1122334455667788, setns: true, capset: true), .. AllThreads.Restorer];
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, code);
            var psi = new ProcessStartInfo("/usr/bin/objdump", ["-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel", file]) { RedirectStandardOutput = true };
            using Process p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            string[] instructions = output.Split('\n').Where(l => l.Split('\t').Length == 3).Select(l => string.Join(' ', l.Split('\t')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToArray();
            string[] expected =
            [
                "movabs rbx,0x1122334455667788",
                "mov eax,0x110", "mov edi,0x200", "syscall", "test rax,rax", "je 0x1f", "lock inc DWORD PTR [rbx+0xc]",
                "mov eax,0x134", "mov edi,DWORD PTR [rbx]", "mov esi,0x20000", "syscall", "test rax,rax", "je 0x36", "lock inc DWORD PTR [rbx+0xc]",
                "mov eax,0x7e", "lea rdi,[rbx+0x10]", "lea rsi,[rbx+0x18]", "syscall", "test rax,rax", "je 0x4e", "lock inc DWORD PTR [rbx+0xc]",
                "lock inc DWORD PTR [rbx+0x8]", "ret",
                "mov eax,0xf", "syscall",
            ];
            Assert.That(instructions, Is.EqualTo(expected), output);
        }
        finally { File.Delete(file); }
    }
}
