using System.Buffers.Binary;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// A signalfd (signalfd(2)): reading takes the reader's pending signals of <see cref="Mask"/> as
/// struct signalfd_siginfo records, instead of delivering them to handlers. As on Linux it
/// reads and polls the signals of whichever task uses it, not of the one that made it.
/// </summary>
public sealed class SignalFd : FileDescription
{
    /// <summary>sizeof(struct signalfd_siginfo).</summary>
    public const int RecordSize = 128;

    /// <summary>Signals it accepts; SIGKILL and SIGSTOP never are.</summary>
    public ulong Mask { get; set; }

    public SignalFd(ulong mask, int flags)
    {
        Mask = mask;
        Flags = Linux.O_RDWR | (flags & Linux.O_NONBLOCK);
        Path = "anon_inode:[signalfd]";
    }

    public override long Read(Span<byte> buffer)
    {
        if (buffer.Length < RecordSize) return -Errno.EINVAL;
        var t = Task.Current;
        if (t == null) return -Errno.EAGAIN;
        while (true)
        {
            int n = 0;
            ulong mask = Mask;
            while (n + RecordSize <= buffer.Length && t.Signals.TryDequeue(~mask, out var info))
            {
                Encode(info, buffer.Slice(n, RecordSize));
                n += RecordSize;
            }
            if (n > 0) return n;
            if ((Flags & Linux.O_NONBLOCK) != 0) return -Errno.EAGAIN;
            if (t.Block(null, () => (t.Signals.PendingSet & Mask) != 0) == -Errno.EINTR) return -SignalDelivery.ERESTARTSYS;
        }
    }

    /// <summary>struct signalfd_siginfo from a queued siginfo: the fields its kind of signal carries.</summary>
    static void Encode(in SigInfo si, Span<byte> r)
    {
        r.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(r, si.si_signo);
        BinaryPrimitives.WriteInt32LittleEndian(r[4..], si.si_errno);
        BinaryPrimitives.WriteInt32LittleEndian(r[8..], si.si_code);
        bool fault = si.si_signo is Linux.SIGSEGV or Linux.SIGBUS or Linux.SIGILL or Linux.SIGFPE or Linux.SIGTRAP && si.si_code > 0;
        if (fault)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(r[72..], si.si_addr); // ssi_addr
            return;
        }
        if (si.si_code == SigInfo.SI_TIMER)
        {
            BinaryPrimitives.WriteInt32LittleEndian(r[24..], si.si_timerid); // ssi_tid
            BinaryPrimitives.WriteInt32LittleEndian(r[32..], si.si_overrun); // ssi_overrun
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(r[12..], si.si_pid);  // ssi_pid
            BinaryPrimitives.WriteUInt32LittleEndian(r[16..], si.si_uid); // ssi_uid
        }
        if (si.si_signo == Linux.SIGCHLD) BinaryPrimitives.WriteInt32LittleEndian(r[40..], si.si_status); // ssi_status
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(r[44..], (int)si.si_value);   // ssi_int
            BinaryPrimitives.WriteUInt64LittleEndian(r[48..], si.si_value);       // ssi_ptr
        }
    }

    public override int Poll(int events) =>
        Task.Current is { } t && (t.Signals.PendingSet & Mask) != 0 ? PollEvents.POLLIN : 0;

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 14, st_ino = 1, st_nlink = 1, st_mode = 0x180, st_blksize = 4096 };
        return 0;
    }
}
