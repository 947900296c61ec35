using System.Collections.Concurrent;
using System.Text;
using Sentry.Kernel.Abi;
using Sentry.P9;
using P9Const = Sentry.P9.P9;

namespace Sentry.Kernel.Fs;

/// <summary>
/// A connection to the Gofer: the 9P client Sentry reaches one exported tree through (it never
/// opens container files by path itself), the lookup cache shared by the tree's nodes, and the
/// fids of nodes the garbage collector dropped, clunked on the next call from a task thread.
/// </summary>
public sealed class GoferFs : IDisposable
{
    /// <summary>What the tree is to the sandbox.</summary>
    public enum Layer
    {
        /// <summary>The root overlay's lower layer: read-only, and nobody else changes it while the sandbox runs, so lookups and attributes are cached.</summary>
        ReadOnlyLower,
        /// <summary>A bind-mounted host directory the sandbox may change. The host may change it too, so nothing is cached.</summary>
        Volume,
        /// <summary>A bind-mounted host directory, read-only to the sandbox; the host may still change it.</summary>
        ReadOnlyVolume,
    }

    static int s_nextDev = 0x9f00;

    /// <summary>
    /// Lookups cached before every directory's cache is let go. Each cached node holds a fid, and
    /// the Gofer an fd for each fid, so the limit stays well inside the host's RLIMIT_NOFILE hard
    /// limit (the Gofer raises its soft limit to it): walks over trees larger than that (ls -lR
    /// /usr/lib, find /) would otherwise end in EMFILE.
    /// </summary>
    static readonly int LookupCacheLimit = Math.Clamp((int)Math.Min(int.MaxValue, HostNofileHard() / 4), 1024, 32768);

    static unsafe long HostNofileHard()
    {
        ulong* limit = stackalloc ulong[2]; // struct rlimit64 { rlim_cur, rlim_max }
        return Sentry.Platform.HostSyscall.Call(302 /* prlimit64 */, 0, 7 /* RLIMIT_NOFILE */, 0, (long)limit) == 0 ? (long)Math.Min(limit[1], long.MaxValue) : 1024;
    }

    readonly ConcurrentQueue<uint> _dropped = new();
    readonly List<GoferInode> _cachingDirs = new();
    int _cachedEntries;
    int _deathReported;

    public P9Client Client { get; }
    public GoferInode Root { get; }
    public Layer Kind { get; }
    /// <summary>Changes go to the host (a writable volume).</summary>
    public bool Writable => Kind == Layer.Volume;
    /// <summary>Lookups and attributes may be kept (only the root's lower layer, which nobody changes).</summary>
    public bool Caches => Kind == Layer.ReadOnlyLower;
    /// <summary>st_dev of the tree's files: each mount its own, as on Linux.</summary>
    public ulong Dev { get; } = (ulong)Interlocked.Increment(ref s_nextDev) - 1;
    /// <summary>Called once when the connection to the Gofer is lost (every file call then fails with EIO).</summary>
    public Action? OnDeath { get; set; }

    GoferFs(P9Client client, uint rootFid, in P9StatDotl rootAttr, Layer kind)
    {
        Client = client;
        Kind = kind;
        Root = new GoferInode(this, rootFid, rootAttr, "/");
    }

    /// <summary>Negotiates 9P2000.L over <paramref name="socketFd"/> (owned from now on) and attaches to the export: 0, or -errno.</summary>
    public static long Connect(int socketFd, out GoferFs? fs, Layer kind = Layer.ReadOnlyLower) =>
        BeginConnect(socketFd, kind).Finish(out fs);

    /// <summary>
    /// Starts connecting: sends Tversion and returns at once, so a Gofer that is still starting
    /// up answers while Sentry starts too. <see cref="Connecting.Finish"/> waits for the answer,
    /// attaches and returns what <see cref="Connect"/> does.
    /// </summary>
    public static Connecting BeginConnect(int socketFd, Layer kind = Layer.ReadOnlyLower)
    {
        var client = new P9Client(socketFd);
        return new Connecting(client, kind, client.SendVersion());
    }

    /// <summary>A connection whose Tversion is on its way (<see cref="BeginConnect"/>).</summary>
    public sealed class Connecting(P9Client client, Layer kind, int sent)
    {
        /// <summary>Completes the connection: 0 and the tree, or -errno (the client is then closed).</summary>
        public long Finish(out GoferFs? fs) => Attach(client, sent < 0 ? sent : client.ReceiveVersion(), kind, out fs);
    }

    static long Attach(P9Client client, int r, Layer kind, out GoferFs? fs)
    {
        fs = null;
        uint fid = P9Const.P9_NOFID;
        if (r == 0) r = client.Attach("root"u8, "/"u8, 0, out fid, out _);
        P9StatDotl attr = default;
        if (r == 0) r = client.GetAttr(fid, AttrMask, out attr);
        if (r < 0)
        {
            client.Dispose();
            return r;
        }
        fs = new GoferFs(client, fid, attr, kind);
        return 0;
    }

    /// <summary>Asks for the attributes Sentry shows in stat.</summary>
    public const ulong AttrMask = P9Const.P9_GETATTR_BASIC;

    internal void Dropped(uint fid) => _dropped.Enqueue(fid);

    /// <summary>Clunks fids of collected nodes; called before each request so the Gofer's fid table stays small.</summary>
    internal void ClunkDropped()
    {
        while (_dropped.TryDequeue(out uint fid)) Client.Clunk(fid);
    }

    /// <summary>Turns a failed call into the errno the application sees, reporting a dead Gofer once.</summary>
    internal long Check(long r)
    {
        if (r < 0 && Client.IsDead && Interlocked.Exchange(ref _deathReported, 1) == 0) OnDeath?.Invoke();
        return r < 0 && Client.IsDead ? -Errno.EIO : r;
    }

    /// <summary>Counts a cached lookup; past the limit every directory's cache is dropped, so a walk over a huge tree keeps memory flat.</summary>
    internal void Cached(GoferInode dir, bool firstInDir)
    {
        lock (_cachingDirs)
        {
            if (firstInDir) _cachingDirs.Add(dir);
            if (++_cachedEntries <= LookupCacheLimit) return;
            foreach (var d in _cachingDirs) if (d != dir) d.DropCache();
            _cachingDirs.Clear();
            _cachingDirs.Add(dir);
            _cachedEntries = 1;
        }
        // The nodes let go give their fids back from their finalizers: run them now, so the
        // Gofer's fds are freed before the walk that filled the cache asks for more.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        ClunkDropped();
    }

    /// <summary>Pages the files' page caches may hold together before they are let go (frames still mapped stay with their mappings).</summary>
    const long PageCacheLimit = (64L << 20) / 4096;
    readonly List<GoferInode> _cachingFiles = new();

    /// <summary>Counts a file that now has a page cache; when the caches together are over the limit, the others are dropped.</summary>
    internal void Cache(GoferInode file)
    {
        GoferInode[] drop = [];
        lock (_cachingFiles)
        {
            _cachingFiles.Add(file);
            long total = 0;
            foreach (var f in _cachingFiles) total += f.CachedPages;
            if (total > PageCacheLimit)
            {
                drop = [.. _cachingFiles.Where(f => f != file)];
                _cachingFiles.Clear();
                _cachingFiles.Add(file);
            }
        }
        foreach (var f in drop) f.DropPages();
    }

    readonly Dictionary<ulong, WeakReference<VolumeFile>> _volumeFiles = new();

    /// <summary>The shared state of the volume file with inode <paramref name="ino"/>, made on first use.</summary>
    internal VolumeFile VolumeFileFor(ulong ino)
    {
        lock (_volumeFiles)
        {
            if (_volumeFiles.TryGetValue(ino, out var weak) && weak.TryGetTarget(out var known)) return known;
            if (_volumeFiles.Count > 1024) // forget the ones nothing holds any more
                foreach (var k in _volumeFiles.Where(e => !e.Value.TryGetTarget(out _)).Select(e => e.Key).ToArray()) _volumeFiles.Remove(k);
            var file = new VolumeFile();
            _volumeFiles[ino] = new WeakReference<VolumeFile>(file);
            return file;
        }
    }

    /// <summary>The shared state of a volume file if some description of it is open, else null.</summary>
    internal VolumeFile? VolumeFileIfAny(ulong ino)
    {
        lock (_volumeFiles) return _volumeFiles.TryGetValue(ino, out var weak) && weak.TryGetTarget(out var f) ? f : null;
    }

    internal static byte[] Name(string name) => Encoding.UTF8.GetBytes(name);

    public void Dispose() => Client.Dispose();
}
