using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Memory;

/// <summary>
/// Where exec put argv and envp on the initial stack (Linux's mm->start_stack, arg_start..arg_end,
/// env_start..env_end): /proc/&lt;pid&gt;/cmdline and environ read these ranges from the process's
/// memory, so a process that rewrites its argv shows the change, as on Linux.
/// </summary>
public readonly record struct StackLayout(ulong StartStack, ulong ArgStart, ulong ArgEnd, ulong EnvStart, ulong EnvEnd);

/// <summary>Sizes in bytes as /proc/&lt;pid&gt;/status and statm report them (Linux's names).</summary>
public readonly record struct MemoryUsage(
    ulong VmSize, ulong VmData, ulong VmStk, ulong VmExe, ulong VmLib,
    ulong RssAnon, ulong RssFile, ulong RssShmem)
{
    public ulong VmRss => RssAnon + RssFile + RssShmem;
}

// What /proc shows of an address space.
public sealed partial class MemoryManager
{
    /// <summary>Set by the loader; copied by fork.</summary>
    public StackLayout Layout { get; set; }

    /// <summary>
    /// Calls <paramref name="visit"/> for every VMA in address order while holding the address
    /// space's lock, so another thread of the process cannot change the list meanwhile. The visitor
    /// must not call back into this memory manager.
    /// </summary>
    public void VisitVmas(Action<Vma> visit)
    {
        lock (_lock)
            foreach (var v in _vmas) visit(v);
    }

    /// <summary>
    /// Virtual sizes by kind and resident pages by backing. Code of the file named
    /// <paramref name="exePath"/> counts as VmExe, other executable mappings as VmLib.
    /// </summary>
    public MemoryUsage Usage(string exePath)
    {
        lock (_lock)
        {
            ulong size = 0, data = 0, stack = 0, exe = 0, lib = 0, anon = 0, file = 0, shmem = 0;
            foreach (var v in _vmas)
            {
                size += v.Length;
                bool isStack = v.Label == "[stack]";
                if (isStack) stack += v.Length;
                else if ((v.Prot & PROT_WRITE) != 0 && !v.Shared) data += v.Length;
                if ((v.Prot & PROT_EXEC) != 0 && (v.Prot & PROT_WRITE) == 0 && !isStack)
                {
                    if (v.File != null && v.File.MapName == exePath) exe += v.Length; else lib += v.Length;
                }
            }
            foreach (var (va, pte) in _pages)
            {
                int i = IndexAtOrAfter(va);
                var v = i < _vmas.Count && _vmas[i].Start <= va ? _vmas[i] : null;
                if (pte.Shared) shmem += Page;
                else if (v?.File != null) file += Page;
                else anon += Page;
            }
            return new MemoryUsage(size, data, stack, exe, lib, anon, file, shmem);
        }
    }
}
