using System.Runtime.InteropServices;
using Sentry.Platform.Kvm;
using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>
/// The KVM request numbers, constants and structure layouts Sentry.Platform.Kvm hard-codes, against
/// a probe compiled with gcc from linux/kvm.h. Needs no /dev/kvm.
/// </summary>
public sealed class KvmAbiTests
{
    static Dictionary<string, ulong> Probe()
    {
        var exe = TestPrograms.TryBuildProbe("probes/kvm_abi.c");
        if (exe == null) Assert.Ignore("gcc not installed (apt-get install gcc)");
        var r = ProcessRunner.Run(exe, [], timeout: TimeSpan.FromSeconds(20));
        Assert.That(r.ExitCode, Is.Zero, r.Describe());
        return r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => ulong.Parse(p[1]));
    }

    [Test]
    public void ConstantsMatchTheKernelHeaders()
    {
        var c = Probe();
        var ours = new Dictionary<string, ulong>
        {
            ["KVM_GET_API_VERSION"] = KvmAbi.KVM_GET_API_VERSION,
            ["KVM_CREATE_VM"] = KvmAbi.KVM_CREATE_VM,
            ["KVM_CHECK_EXTENSION"] = KvmAbi.KVM_CHECK_EXTENSION,
            ["KVM_GET_VCPU_MMAP_SIZE"] = KvmAbi.KVM_GET_VCPU_MMAP_SIZE,
            ["KVM_GET_SUPPORTED_CPUID"] = KvmAbi.KVM_GET_SUPPORTED_CPUID,
            ["KVM_CREATE_VCPU"] = KvmAbi.KVM_CREATE_VCPU,
            ["KVM_SET_USER_MEMORY_REGION"] = KvmAbi.KVM_SET_USER_MEMORY_REGION,
            ["KVM_RUN"] = KvmAbi.KVM_RUN,
            ["KVM_GET_REGS"] = KvmAbi.KVM_GET_REGS,
            ["KVM_SET_REGS"] = KvmAbi.KVM_SET_REGS,
            ["KVM_GET_SREGS"] = KvmAbi.KVM_GET_SREGS,
            ["KVM_SET_SREGS"] = KvmAbi.KVM_SET_SREGS,
            ["KVM_SET_MSRS"] = KvmAbi.KVM_SET_MSRS,
            ["KVM_SET_CPUID2"] = KvmAbi.KVM_SET_CPUID2,
            ["KVM_GET_XSAVE"] = KvmAbi.KVM_GET_XSAVE,
            ["KVM_SET_XSAVE"] = KvmAbi.KVM_SET_XSAVE,
            ["KVM_SET_XCRS"] = KvmAbi.KVM_SET_XCRS,
            ["KVM_CAP_NR_MEMSLOTS"] = KvmAbi.KVM_CAP_NR_MEMSLOTS,
            ["KVM_CAP_XSAVE"] = KvmAbi.KVM_CAP_XSAVE,
            ["KVM_CAP_XCRS"] = KvmAbi.KVM_CAP_XCRS,
            ["KVM_CAP_SYNC_REGS"] = KvmAbi.KVM_CAP_SYNC_REGS,
            ["KVM_CAP_IMMEDIATE_EXIT"] = KvmAbi.KVM_CAP_IMMEDIATE_EXIT,
            ["KVM_CAP_MAX_VCPUS"] = KvmAbi.KVM_CAP_MAX_VCPUS,
            ["KVM_EXIT_IO"] = KvmAbi.KVM_EXIT_IO,
            ["KVM_EXIT_HLT"] = KvmAbi.KVM_EXIT_HLT,
            ["KVM_EXIT_MMIO"] = KvmAbi.KVM_EXIT_MMIO,
            ["KVM_EXIT_SHUTDOWN"] = KvmAbi.KVM_EXIT_SHUTDOWN,
            ["KVM_EXIT_FAIL_ENTRY"] = KvmAbi.KVM_EXIT_FAIL_ENTRY,
            ["KVM_EXIT_INTR"] = KvmAbi.KVM_EXIT_INTR,
            ["KVM_EXIT_INTERNAL_ERROR"] = KvmAbi.KVM_EXIT_INTERNAL_ERROR,
            ["KVM_SYNC_X86_REGS"] = KvmAbi.KVM_SYNC_X86_REGS,
            ["KVM_SYNC_X86_SREGS"] = KvmAbi.KVM_SYNC_X86_SREGS,
            ["RunImmediateExit"] = KvmAbi.RunImmediateExit,
            ["RunExitReason"] = KvmAbi.RunExitReason,
            ["RunExitData"] = KvmAbi.RunExitData,
            ["IoPort"] = KvmAbi.IoPort,
            ["RunValidRegs"] = KvmAbi.RunValidRegs,
            ["RunDirtyRegs"] = KvmAbi.RunDirtyRegs,
            ["RunRegs"] = KvmAbi.RunRegs,
            ["RunSregs"] = KvmAbi.RunSregs,
            ["KvmXsaveSize"] = KvmAbi.KvmXsaveSize,
            ["CpuidEntrySize"] = KvmAbi.CpuidEntrySize,
            ["sizeof(kvm_regs)"] = (ulong)Marshal.SizeOf<KvmRegs>(),
            ["sizeof(kvm_sregs)"] = (ulong)Marshal.SizeOf<KvmSregs>(),
            ["sizeof(kvm_segment)"] = (ulong)Marshal.SizeOf<KvmSegment>(),
            ["sizeof(kvm_userspace_memory_region)"] = (ulong)Marshal.SizeOf<KvmUserspaceMemoryRegion>(),
            ["sizeof(kvm_xcrs)"] = 392,
        };
        Assert.Multiple(() =>
        {
            foreach (var (name, value) in ours)
                Assert.That(value, Is.EqualTo(c[name]), name);
        });
    }
}
