using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>
/// The root of a tree that is still being connected to (the Gofer starting up while Sentry starts
/// the application's process): the root overlay's lower layer or a volume. The first operation
/// waits for it, then every call goes to the real root. Only the root is wrapped; what its
/// lookups return is the real tree.
/// </summary>
public sealed class DeferredInode(Lazy<Inode> root) : Inode
{
    Inode Root => root.Value;

    /// <summary>The node itself for a node that may be this wrapper (the other directory of a rename, a link's target).</summary>
    public static Inode Unwrap(Inode node) => node is DeferredInode d ? d.Root : node;

    public override uint Mode => Root.Mode;
    public override bool OnReadOnlyFs => Root.OnReadOnlyFs;
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
    public override long Create(Task task, string name, uint mode, out Inode? node) => Root.Create(task, name, mode, out node);
    public override long CreateUnnamed(Task task, uint mode, bool linkable, out Inode? node) => Root.CreateUnnamed(task, mode, linkable, out node);
    public override long MakeDir(Task task, string name, uint mode) => Root.MakeDir(task, name, mode);
    public override long MakeSymlink(Task task, string name, string target) => Root.MakeSymlink(task, name, target);
    public override long MakeNode(Task task, string name, uint mode, ulong dev) => Root.MakeNode(task, name, mode, dev);
    public override long Link(Task task, string name, Inode target) => Root.Link(task, name, Unwrap(target));
    public override long Remove(Task task, string name, bool dir) => Root.Remove(task, name, dir);
    public override long Rename(Task task, string oldName, Inode newDir, string newName, uint flags) => Root.Rename(task, oldName, Unwrap(newDir), newName, flags);
    public override long SetAttr(Task task, in SetAttr attr) => Root.SetAttr(task, attr);
    public override long SetXattr(Task task, string name, ReadOnlySpan<byte> value, int flags) => Root.SetXattr(task, name, value, flags);
    public override long RemoveXattr(Task task, string name) => Root.RemoveXattr(task, name);
}
