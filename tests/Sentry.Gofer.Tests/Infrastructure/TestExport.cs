using Sentry.P9;
using Sentry.P9.Tests;

namespace Sentry.Gofer.Tests;

/// <summary>The servers the shared scenarios run against.</summary>
public enum ServerKind
{
    /// <summary>Debian's diod, the third-party reference.</summary>
    Diod,
    /// <summary>Our Gofer, reopening files through /proc/self/fd (as the confined process does).</summary>
    Gofer,
    /// <summary>Our Gofer without /proc: files reopened by parent directory and name.</summary>
    GoferWithoutProc,
}

/// <summary>
/// One server exporting a fresh directory, whichever kind: the scenarios connect, act through
/// P9Client, and compare with what the host shows at <see cref="HostPath"/>.
/// </summary>
public sealed class TestExport : IDisposable
{
    readonly DiodServer? _diod;
    readonly InProcessGofer? _gofer;

    TestExport(ServerKind kind, DiodServer? diod, InProcessGofer? gofer)
    {
        Kind = kind;
        _diod = diod;
        _gofer = gofer;
    }

    public ServerKind Kind { get; }
    public bool IsDiod => Kind == ServerKind.Diod;
    public InProcessGofer? Gofer => _gofer;

    /// <summary>Starts the server (a missing diod ignores the fixture, as in the 9P library's tests).</summary>
    public static TestExport Start(ServerKind kind) => kind switch
    {
        ServerKind.Diod => new TestExport(kind, DiodServer.StartOrIgnore(), null),
        ServerKind.Gofer => new TestExport(kind, null, new InProcessGofer()),
        _ => new TestExport(kind, null, new InProcessGofer(new GoferOptions { ReopenThroughProc = false })),
    };

    public string Root => _diod?.Root ?? _gofer!.Root;

    public string HostPath(string relative) => Path.Combine(Root, relative);

    public P9Client Connect(out uint root, out P9Qid rootQid, int msize = P9Client.DefaultMSize) =>
        _diod != null ? _diod.Connect(out root, out rootQid, msize) : _gofer!.Connect(out root, out rootQid, msize);

    /// <summary>A bare socket to the server (not negotiated), for frame-level checks.</summary>
    public int ConnectRaw() => _diod != null ? Native.ConnectUnix(_diod.SocketPath) : _gofer!.StartConnection();

    /// <summary>The aname to attach with on a raw connection: diod wants the export path, the Gofer takes "".</summary>
    public byte[] Aname => _diod != null ? InProcessGofer.N(_diod.Root) : [];

    public void Dispose()
    {
        _diod?.Dispose();
        _gofer?.Dispose();
    }
}
