namespace Sentry.Platform.Ptrace;

/// <summary>An address space on ptrace: one stub process, with memory-file pages mmapped into it on demand.</summary>
internal sealed class PtraceAddressSpace : IAddressSpace
{
    const int SYS_mmap = 9, SYS_mprotect = 10, SYS_munmap = 11;
    const int MAP_SHARED = 1, MAP_FIXED = 0x10;

    public StubProcess Stub { get; }

    public PtraceAddressSpace(MemoryFile memory) => Stub = new StubProcess(memory);

    public long MapFile(ulong va, ulong length, long fileOffset, Protection prot)
    {
        long r = Stub.Inject(SYS_mmap, va, length, (ulong)prot, MAP_SHARED | MAP_FIXED, StubImage.MemoryFd, (ulong)fileOffset);
        return r < 0 ? r : 0;
    }

    public long Unmap(ulong va, ulong length) => Stub.Inject(SYS_munmap, va, length);

    public long Protect(ulong va, ulong length, Protection prot) => Stub.Inject(SYS_mprotect, va, length, (ulong)prot);

    public void Dispose() => Stub.Dispose();
}
