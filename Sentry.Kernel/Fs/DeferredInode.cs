using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>
/// The root of a read-only lower tree that is still being connected to (the Gofer starting up
/// while Sentry starts the application's process): the first operation waits for it, then every
/// call goes to the real root. Only the root is wrapped; what its lookups return is the real tree.
/// </summary>
public sealed class DeferredInode(Lazy<Inode> root) : Inode
{
    Inode Root => root.Value;

    public override uint Mode => Root.Mode;
    public override uint Uid => Root.Uid;
    public override uint Gid => Root.Gid;
    public override long Stat(out LinuxStat st) => Root.Stat(out st);
    public override long Statx(uint mask, out LinuxStatx stx) => Root.Statx(mask, out stx);
    public override long Lookup(Task task, string name, out Inode? child) => Root.Lookup(task, name, out child);
    public override long ReadDir(Task task, List<DirEntry> entries) => Root.ReadDir(task, entries);
    public override long ReadLink(Task task, out string target) => Root.ReadLink(task, out target);
    public override long Open(Task task, int flags, string path, out FileDescription? file) => Root.Open(task, flags, path, out file);
    public override long StatFs(Span<long> st) => Root.StatFs(st);
    public override long GetXattr(Task task, string name, Span<byte> value) => Root.GetXattr(task, name, value);
    public override long ListXattr(Task task, Span<byte> list) => Root.ListXattr(task, list);
}
