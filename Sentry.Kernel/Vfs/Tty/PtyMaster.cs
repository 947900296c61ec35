using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Tty;

/// <summary>The master side of a <see cref="Pty"/>: the description a /dev/ptmx open returns.</summary>
public sealed class PtyMaster : FileDescription
{
    public Pty Pty { get; }

    public PtyMaster(Pty pty, int flags, string path)
    {
        Pty = pty;
        Flags = flags;
        Path = path;
    }

    bool NonBlock => (Flags & Linux.O_NONBLOCK) != 0;
    public override long Read(Span<byte> buffer) => Pty.MasterRead(buffer, NonBlock);
    public override long Write(ReadOnlySpan<byte> buffer) => Pty.MasterWrite(buffer, NonBlock);
    public override long Ioctl(Task task, uint cmd, ulong arg) => Pty.Ioctl(task, cmd, arg, master: true);
    public override int Poll(int events) => Pty.MasterPoll();
    public override WaitQueue? PollQueue => Pty.Queue;
    public override long Stat(out LinuxStat st) => DevPts.PtmxStat(out st);
    protected override void OnLastClose() => Pty.MasterClosed();
}
