/* Prints the KVM ABI values Sentry.Platform.Kvm hard-codes, as "NAME value" lines, so that
 * KvmAbiTests can compare them with the C# constants (linux/kvm.h is the reference). */
#include <stdio.h>
#include <stddef.h>
#include <linux/kvm.h>

#define P(name, value) printf("%s %lu\n", name, (unsigned long)(value))

int main(void)
{
    P("KVM_GET_API_VERSION", KVM_GET_API_VERSION);
    P("KVM_CREATE_VM", KVM_CREATE_VM);
    P("KVM_CHECK_EXTENSION", KVM_CHECK_EXTENSION);
    P("KVM_GET_VCPU_MMAP_SIZE", KVM_GET_VCPU_MMAP_SIZE);
    P("KVM_GET_SUPPORTED_CPUID", KVM_GET_SUPPORTED_CPUID);
    P("KVM_CREATE_VCPU", KVM_CREATE_VCPU);
    P("KVM_SET_USER_MEMORY_REGION", KVM_SET_USER_MEMORY_REGION);
    P("KVM_RUN", KVM_RUN);
    P("KVM_GET_REGS", KVM_GET_REGS);
    P("KVM_SET_REGS", KVM_SET_REGS);
    P("KVM_GET_SREGS", KVM_GET_SREGS);
    P("KVM_SET_SREGS", KVM_SET_SREGS);
    P("KVM_SET_MSRS", KVM_SET_MSRS);
    P("KVM_SET_CPUID2", KVM_SET_CPUID2);
    P("KVM_GET_XSAVE", KVM_GET_XSAVE);
    P("KVM_SET_XSAVE", KVM_SET_XSAVE);
    P("KVM_SET_XCRS", KVM_SET_XCRS);
    P("KVM_CAP_NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS);
    P("KVM_CAP_XSAVE", KVM_CAP_XSAVE);
    P("KVM_CAP_XCRS", KVM_CAP_XCRS);
    P("KVM_CAP_SYNC_REGS", KVM_CAP_SYNC_REGS);
    P("KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT);
    P("KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS);
    P("KVM_EXIT_IO", KVM_EXIT_IO);
    P("KVM_EXIT_HLT", KVM_EXIT_HLT);
    P("KVM_EXIT_MMIO", KVM_EXIT_MMIO);
    P("KVM_EXIT_SHUTDOWN", KVM_EXIT_SHUTDOWN);
    P("KVM_EXIT_FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY);
    P("KVM_EXIT_INTR", KVM_EXIT_INTR);
    P("KVM_EXIT_INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR);
    P("KVM_SYNC_X86_REGS", KVM_SYNC_X86_REGS);
    P("KVM_SYNC_X86_SREGS", KVM_SYNC_X86_SREGS);
    P("RunImmediateExit", offsetof(struct kvm_run, immediate_exit));
    P("RunExitReason", offsetof(struct kvm_run, exit_reason));
    P("RunExitData", offsetof(struct kvm_run, io));
    P("IoPort", offsetof(struct kvm_run, io.port));
    P("RunValidRegs", offsetof(struct kvm_run, kvm_valid_regs));
    P("RunDirtyRegs", offsetof(struct kvm_run, kvm_dirty_regs));
    P("RunRegs", offsetof(struct kvm_run, s.regs.regs));
    P("RunSregs", offsetof(struct kvm_run, s.regs.sregs));
    P("KvmXsaveSize", sizeof(struct kvm_xsave));
    P("CpuidEntrySize", sizeof(struct kvm_cpuid_entry2));
    P("sizeof(kvm_regs)", sizeof(struct kvm_regs));
    P("sizeof(kvm_sregs)", sizeof(struct kvm_sregs));
    P("sizeof(kvm_segment)", sizeof(struct kvm_segment));
    P("sizeof(kvm_userspace_memory_region)", sizeof(struct kvm_userspace_memory_region));
    P("sizeof(kvm_xcrs)", sizeof(struct kvm_xcrs));
    return 0;
}
