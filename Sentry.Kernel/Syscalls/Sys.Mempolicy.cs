using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// NUMA memory policies (mm/mempolicy.c) for a machine of one node, node 0: policies are
// validated and recorded (per task, per VMA with mbind) and reported back; they place nothing.
public static partial class Sys
{
    const int MPOL_DEFAULT = 0, MPOL_PREFERRED = 1, MPOL_BIND = 2, MPOL_INTERLEAVE = 3, MPOL_LOCAL = 4,
        MPOL_PREFERRED_MANY = 5, MPOL_WEIGHTED_INTERLEAVE = 6, MPOL_MAX = 7;
    const int MPOL_F_STATIC_NODES = 1 << 15, MPOL_F_RELATIVE_NODES = 1 << 14, MPOL_F_NUMA_BALANCING = 1 << 13,
        MPOL_MODE_FLAGS = MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING;
    const int MPOL_F_NODE = 1, MPOL_F_ADDR = 2, MPOL_F_MEMS_ALLOWED = 4;
    const int MPOL_MF_STRICT = 1, MPOL_MF_MOVE = 2, MPOL_MF_MOVE_ALL = 4;
    /// <summary>MAX_NUMNODES of distribution kernels (CONFIG_NODES_SHIFT=10): mask bits past it must be clear.</summary>
    const ulong MaxNumNodes = 1024;

    internal static void RegisterMempolicy(SyscallHandler?[] t)
    {
        t[238] = SetMempolicy; t[239] = GetMempolicy; t[237] = Mbind;
    }

    /// <summary>get_nodes: the node mask of maxnode - 1 bits at <paramref name="addr"/>; only node 0 exists.</summary>
    static long ReadNodes(Task t, ulong addr, ulong maxnode, out ulong nodes, out bool other)
    {
        nodes = 0; other = false;
        if (maxnode > 0) maxnode--;
        if (maxnode == 0 || addr == 0) return 0;
        if (maxnode > PAGE_SIZE * 8) return -Errno.EINVAL;
        ulong words = (maxnode + 63) / 64;
        for (ulong w = 0; w < words; w++)
        {
            if (t.Mm.Read(addr + w * 8, out ulong bits) < 0) return -Errno.EFAULT;
            if (w == words - 1 && maxnode % 64 != 0) bits &= (1UL << (int)(maxnode % 64)) - 1;
            if (w * 64 >= MaxNumNodes && bits != 0) return -Errno.EINVAL;
            if (w == 0) { nodes = bits & 1; other |= (bits & ~1UL) != 0; }
            else other |= bits != 0;
        }
        return 0;
    }

    /// <summary>sanitize_mpol_flags and mpol_new's checks: the policy to record, or -EINVAL.</summary>
    static long CheckPolicy(int mode, ulong nodes, bool otherNodes, out ulong kept)
    {
        kept = nodes;
        int flags = mode & MPOL_MODE_FLAGS, m = mode & ~MPOL_MODE_FLAGS;
        if (m < 0 || m >= MPOL_MAX) return -Errno.EINVAL;
        if ((flags & MPOL_F_STATIC_NODES) != 0 && (flags & MPOL_F_RELATIVE_NODES) != 0) return -Errno.EINVAL;
        if ((flags & MPOL_F_NUMA_BALANCING) != 0 && m != MPOL_BIND && m != MPOL_PREFERRED_MANY) return -Errno.EINVAL;
        bool empty = nodes == 0 && !otherNodes;
        switch (m)
        {
            case MPOL_DEFAULT: return empty ? 0 : -Errno.EINVAL;
            case MPOL_LOCAL: return empty && flags == 0 ? 0 : -Errno.EINVAL;
            case MPOL_PREFERRED when empty:
                // An empty preferred set means local allocation, unless its nodes are pinned.
                return (flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES)) != 0 ? -Errno.EINVAL : 0;
            default:
                if (empty) return -Errno.EINVAL;
                // Only node 0 exists: a set without it leaves nothing (unless relative, which maps onto it).
                if (nodes == 0 && (flags & MPOL_F_RELATIVE_NODES) == 0) return -Errno.EINVAL;
                kept = 1;
                return 0;
        }
    }

    static long SetMempolicy(Task t, in SyscallArgs a)
    {
        int mode = (int)a.A0;
        long r = ReadNodes(t, a.A1, a.A2, out ulong nodes, out bool other);
        if (r < 0) return r;
        r = CheckPolicy(mode, nodes, other, out ulong kept);
        if (r < 0) return r;
        t.MemPolicy = (mode & ~MPOL_MODE_FLAGS) == MPOL_DEFAULT ? default : (mode, kept);
        return 0;
    }

    static long Mbind(Task t, in SyscallArgs a)
    {
        ulong start = a.A0, len = a.A1;
        int mode = (int)a.A2, flags = (int)a.A5;
        if ((flags & ~(MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) != 0) return -Errno.EINVAL;
        if ((flags & MPOL_MF_MOVE_ALL) != 0 && t.Uid != 0) return -Errno.EPERM;
        if ((start & PageMask) != 0) return -Errno.EINVAL;
        len = Memory.MemoryManager.PageUp(len);
        if (start + len < start) return -Errno.EINVAL;
        long r = ReadNodes(t, a.A3, a.A4, out ulong nodes, out bool other);
        if (r < 0) return r;
        r = CheckPolicy(mode, nodes, other, out ulong kept);
        if (r < 0) return r;
        if (len == 0) return 0;
        bool isDefault = (mode & ~MPOL_MODE_FLAGS) == MPOL_DEFAULT;
        return t.Mm.SetPolicy(start, len, isDefault ? 0 : mode, isDefault ? 0 : kept);
    }

    static long GetMempolicy(Task t, in SyscallArgs a)
    {
        ulong policyAddr = a.A0, nmask = a.A1, maxnode = a.A2, addr = a.A3;
        int flags = (int)a.A4;
        if ((flags & ~(MPOL_F_NODE | MPOL_F_ADDR | MPOL_F_MEMS_ALLOWED)) != 0) return -Errno.EINVAL;
        if (nmask != 0 && maxnode < 1) return -Errno.EINVAL; // nr_node_ids is 1
        int mode;
        ulong nodes;
        if ((flags & MPOL_F_MEMS_ALLOWED) != 0)
        {
            if ((flags & (MPOL_F_NODE | MPOL_F_ADDR)) != 0) return -Errno.EINVAL;
            mode = 0;
            nodes = 1;
        }
        else if ((flags & MPOL_F_ADDR) != 0)
        {
            var v = t.Mm.Find(addr);
            if (v == null || addr < v.Start) return -Errno.EFAULT;
            // With MPOL_F_NODE: the node the page is on, always node 0.
            mode = (flags & MPOL_F_NODE) != 0 ? 0 : v.PolicyMode;
            nodes = v.PolicyNodes;
        }
        else
        {
            if ((flags & MPOL_F_NODE) != 0 && (t.MemPolicy.Mode & ~MPOL_MODE_FLAGS) != MPOL_INTERLEAVE) return -Errno.EINVAL;
            mode = (flags & MPOL_F_NODE) != 0 ? 0 : t.MemPolicy.Mode;
            nodes = t.MemPolicy.Nodes;
        }
        if (policyAddr != 0 && Put(t, policyAddr, mode) < 0) return -Errno.EFAULT;
        if (nmask != 0)
        {
            // copy_nodes_to_user: BITS_TO_LONGS(maxnode - 1) longs, only node 0's bit possibly set.
            ulong words = (maxnode - 1 + 63) / 64;
            for (ulong w = 0; w < words; w++)
                if (Put(t, nmask + w * 8, w == 0 ? nodes : 0UL) < 0) return -Errno.EFAULT;
        }
        return 0;
    }
}
