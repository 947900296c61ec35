using System.Text;
using Sentry.P9;
using Sentry.P9.Tests;

namespace Sentry.Gofer.Tests;

/// <summary>
/// A GoferServer in the test process exporting a fresh temporary directory: each connection is a
/// socketpair whose server end is served by a thread of its own. Beside the export there is an
/// "outside" directory for escape tests. <see cref="Dispose"/> waits for every serving thread to
/// end (clients close their ends) and fails if one threw or did not end.
/// </summary>
public sealed class InProcessGofer : IDisposable
{
    readonly List<(Thread Thread, int[] Result, Exception?[] Error)> _connections = new();
    readonly string _dir;
    readonly int _rootFd;

    /// <summary>Host path of the exported directory.</summary>
    public string Root { get; }
    /// <summary>A sibling of the export that no client may ever reach.</summary>
    public string Outside { get; }
    public GoferServer Server { get; }

    /// <param name="root">Export this existing directory instead of a fresh one (read-only uses).</param>
    public InProcessGofer(GoferOptions? options = null, string? root = null)
    {
        _dir = Directory.CreateTempSubdirectory("sentry-gofer-").FullName;
        Root = root ?? Path.Combine(_dir, "export");
        Outside = Path.Combine(_dir, "outside");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
        _rootFd = TestNative.Open(Root, TestNative.O_PATH | TestNative.O_DIRECTORY);
        Server = new GoferServer(_rootFd, options);
    }

    public string HostPath(string relative) => Path.Combine(Root, relative);

    /// <summary>Starts serving a new connection; returns the client's end (the caller closes it to end the connection).</summary>
    public int StartConnection()
    {
        (int client, int server) = Native.SocketPair();
        int[] result = [int.MinValue];
        Exception?[] error = [null];
        var t = new Thread(() =>
        {
            try { result[0] = Server.Serve(server); }
            catch (Exception e) { error[0] = e; }
        }) { IsBackground = true, Name = "gofer connection" };
        lock (_connections) _connections.Add((t, result, error));
        t.Start();
        return client;
    }

    /// <summary>A new connection, version negotiated and attached to the export root as the current user.</summary>
    public P9Client Connect(out uint root, out P9Qid rootQid, int msize = P9Client.DefaultMSize)
    {
        var client = new P9Client(StartConnection(), msize);
        Assert.That(client.Version(), Is.Zero, "Tversion");
        Assert.That(client.Attach("root"u8, ""u8, Native.EffectiveUid, out root, out rootQid), Is.Zero, "Tattach");
        return client;
    }

    /// <summary>Waits for every connection served so far to end; returns their Serve results. Fails on an exception or a hang.</summary>
    public int[] WaitForConnections(TimeSpan? timeout = null)
    {
        List<(Thread Thread, int[] Result, Exception?[] Error)> all;
        lock (_connections) all = [.. _connections];
        var results = new List<int>();
        foreach (var (t, result, error) in all)
        {
            if (!t.Join(timeout ?? TimeSpan.FromSeconds(20))) throw new AssertionException("a Gofer connection thread did not end after its client closed");
            if (error[0] != null) throw new AssertionException($"GoferServer.Serve threw: {error[0]}");
            results.Add(result[0]);
        }
        return [.. results];
    }

    public void Dispose()
    {
        try { WaitForConnections(); }
        finally
        {
            Server.Dispose();
            Native.Close(_rootFd);
            TestNative.MakeRemovable(_dir);
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public static byte[] N(string s) => Encoding.UTF8.GetBytes(s);
}
