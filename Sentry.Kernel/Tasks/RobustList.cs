namespace Sentry.Kernel.Tasks;

/// <summary>
/// The robust futex list walk done when a thread dies: every futex the thread still owns is
/// marked FUTEX_OWNER_DIED and one waiter woken, so pthread robust mutexes report EOWNERDEAD.
/// </summary>
public static class RobustList
{
    const uint FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
    const int ROBUST_LIST_LIMIT = 2048;

    public static void Release(Task t)
    {
        ulong head = t.RobustList;
        if (head == 0) return;
        var mm = t.Mm;
        // struct robust_list_head { next; long futex_offset; list_op_pending; }
        if (mm.Read(head, out ulong entry) < 0 || mm.Read(head + 8, out long offset) < 0 || mm.Read(head + 16, out ulong pending) < 0) return;
        for (int i = 0; entry != head && entry != 0 && i < ROBUST_LIST_LIMIT; i++)
        {
            if (mm.Read(entry, out ulong next) < 0) return;
            if (entry != pending) HandleDeath(t, (ulong)((long)entry + offset));
            entry = next;
        }
        if (pending != 0) HandleDeath(t, (ulong)((long)pending + offset));
    }

    static void HandleDeath(Task t, ulong futex)
    {
        if ((futex & 3) != 0 || t.Mm.Read(futex, out uint val) < 0) return;
        if ((val & FUTEX_TID_MASK) != (uint)t.Tid) return;
        uint nv = (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if (t.Mm.Write(futex, nv) < 0) return;
        if ((val & FUTEX_WAITERS) != 0) t.Sandbox.Futexes.Wake(FutexKey.Of(t.Mm, futex, shared: true), 1, uint.MaxValue);
    }
}
