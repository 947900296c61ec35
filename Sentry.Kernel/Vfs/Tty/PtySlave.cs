using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>The slave side of a <see cref="Pty"/>: an open of /dev/pts/N or of /dev/tty.</summary>
public sealed class PtySlave : FileDescription
{
    public Pty Pty { get; }

    public PtySlave(Pty pty, int flags, string path)
    {
        Pty = pty;
        Flags = flags;
        Path = path;
    }

    bool NonBlock => (Flags & Linux.O_NONBLOCK) != 0;
    public override long Read(Span<byte> buffer) => Pty.SlaveRead(buffer, NonBlock);
    public override long Write(ReadOnlySpan<byte> buffer) => Pty.SlaveWrite(buffer, NonBlock);
    public override long Ioctl(Task task, uint cmd, ulong arg) => Pty.Ioctl(task, cmd, arg, master: false);
    public override int Poll(int events) => Pty.SlavePoll();
    public override WaitQueue? PollQueue => Pty.Queue;
    public override long Stat(out LinuxStat st) => Pty.Fs.SlaveNode(Pty).Stat(out st);
    protected override void OnLastClose() => Pty.SlaveClosed();
}
