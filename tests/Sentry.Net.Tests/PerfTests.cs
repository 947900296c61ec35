using System.Diagnostics;
using Sentry.Net.Stack;
using static Sentry.Net.Tests.Net;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Tests;

[Explicit("measures, does not check")]
public sealed class PerfTests
{
    [Test]
    public void Throughput_1GiB()
    {
        using var s = NetStack.Loopback();
        var (c, a, l) = Pair(s);
        const long total = 1L << 30;
        var sw = Stopwatch.StartNew();
        var reader = new Thread(() =>
        {
            var buf = new byte[1 << 20];
            long got = 0;
            while (got < total)
            {
                long n = a.Receive(buf, 0, out _, out _);
                if (n == -EAGAIN) { WaitFor(a, POLLIN); continue; }
                if (n <= 0) break;
                got += n;
            }
        });
        reader.Start();
        var chunk = new byte[1 << 20];
        long sent = 0;
        while (sent < total)
        {
            long n = c.Send(chunk, 0, false, default);
            if (n == -EAGAIN) { WaitFor(c, POLLOUT); continue; }
            sent += n;
        }
        reader.Join();
        TestContext.Out.WriteLine($"1 GiB in {sw.Elapsed.TotalSeconds:F2}s = {total / sw.Elapsed.TotalSeconds / 1e9 * 8:F2} Gbit/s");
    }

    [Test]
    public void RoundTrip_64B()
    {
        using var s = NetStack.Loopback();
        var (c, a, l) = Pair(s);
        SetInt(c, IPPROTO_TCP, TCP_NODELAY, 1);
        SetInt(a, IPPROTO_TCP, TCP_NODELAY, 1);
        var msg = new byte[64];
        var buf = new byte[64];
        var server = new Thread(() =>
        {
            var b = new byte[64];
            while (true)
            {
                int n = RecvAll(a, b);
                if (n < 64) return;
                SendAll(a, b);
            }
        });
        server.Start();
        const int N = 50000;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < N; i++)
        {
            SendAll(c, msg);
            RecvAll(c, buf);
        }
        TestContext.Out.WriteLine($"round trip {sw.Elapsed.TotalMicroseconds / N:F2} us");
        c.Close();
        server.Join();
    }
}

[Explicit("measures, does not check")]
public sealed class PerfSingleThread
{
    [Test]
    public void RoundTrip_64B_OneThread()
    {
        using var s = NetworkStack.CreateLoopback();
        var (c, a, l) = Pair(s);
        SetInt(c, IPPROTO_TCP, TCP_NODELAY, 1);
        SetInt(a, IPPROTO_TCP, TCP_NODELAY, 1);
        var msg = new byte[64];
        var buf = new byte[64];
        const int N = 200000;
        long segs0 = s.Stats.TcpOutSegs;
        for (int round = 0; round < 2; round++)
        {
            var sw = Stopwatch.StartNew();
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long allocs = GC.GetAllocatedBytesForCurrentThread();
            long misses = 0;
            for (int i = 0; i < N; i++)
            {
                if (c.Send(msg, 0, false, default) != 64) throw new Exception("send");
                long r;
                while ((r = a.Receive(buf, 0, out _, out _)) == -EAGAIN) misses++;
                if (r != 64) throw new Exception($"recv a {r}");
                if (a.Send(buf, 0, false, default) != 64) throw new Exception("send a");
                while ((r = c.Receive(buf, 0, out _, out _)) == -EAGAIN) misses++;
                if (r != 64) throw new Exception($"recv c {r}");
            }
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            TestContext.Out.WriteLine($"one-thread round trip {sw.Elapsed.TotalMicroseconds / N:F2} us ({cpu.TotalMicroseconds / N:F2} us CPU), {(GC.GetAllocatedBytesForCurrentThread() - allocs) / (double)N:F1} B allocated per round trip, {misses} misses, {(s.Stats.TcpOutSegs - segs0) / (double)N / (round + 1):F2} segments, retrans {s.Stats.TcpRetransSegs}");
        }
    }
}

[Explicit("measures, does not check")]
public sealed class PerfBlocking
{
    /// <summary>Wakes a blocked thread on readiness, as the kernel's wait queues will.</summary>
    sealed class Blocker : IEndpointListener
    {
        readonly object _lock = new();
        int _gen;
        public void OnReadiness(int events) { lock (_lock) { _gen++; Monitor.Pulse(_lock); } }
        public void WaitFor(IEndpoint e, int bits)
        {
            while (true)
            {
                int g;
                lock (_lock) g = _gen;
                if ((e.Readiness & bits) != 0) return;
                lock (_lock) if (_gen == g) Monitor.Wait(_lock, 100);
            }
        }
    }

    static void Recv(IEndpoint e, Blocker b, Span<byte> buf)
    {
        int got = 0;
        while (got < buf.Length)
        {
            long n = e.Receive(buf[got..], 0, out _, out _);
            if (n == -EAGAIN) { b.WaitFor(e, POLLIN | POLLHUP); continue; }
            if (n <= 0) throw new Exception("eof");
            got += (int)n;
        }
    }

    [Test]
    public void RoundTrip_64B_Blocking_VsHost()
    {
        using var s = NetStack.Loopback();
        var (c, a, l) = Pair(s);
        SetInt(c, IPPROTO_TCP, TCP_NODELAY, 1);
        SetInt(a, IPPROTO_TCP, TCP_NODELAY, 1);
        var bc = new Blocker(); c.Listener = bc;
        var ba = new Blocker(); a.Listener = ba;
        const int N = 20000;
        var server = new Thread(() =>
        {
            var b = new byte[64];
            for (int i = 0; i < N; i++) { Recv(a, ba, b); a.Send(b, 0, false, default); }
        });
        server.Start();
        var msg = new byte[64];
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < N; i++) { c.Send(msg, 0, false, default); Recv(c, bc, msg); }
        server.Join();
        TestContext.Out.WriteLine($"stack: blocking round trip {sw.Elapsed.TotalMicroseconds / N:F1} us");

        using var ls = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        ls.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        ls.Listen();
        using var cs = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        cs.Connect(ls.LocalEndPoint!);
        using var ss = ls.Accept();
        ss.NoDelay = true;
        var hs = new Thread(() =>
        {
            var b = new byte[64];
            for (int i = 0; i < N; i++) { int g = 0; while (g < 64) g += ss.Receive(b, g, 64 - g, 0); ss.Send(b); }
        });
        hs.Start();
        sw.Restart();
        for (int i = 0; i < N; i++) { cs.Send(msg); int g = 0; while (g < 64) g += cs.Receive(msg, g, 64 - g, 0); }
        hs.Join();
        TestContext.Out.WriteLine($"host:  blocking round trip {sw.Elapsed.TotalMicroseconds / N:F1} us");
    }

    [Test]
    public void Throughput_Host_1GiB()
    {
        using var ls = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        ls.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        ls.Listen();
        using var cs = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        cs.Connect(ls.LocalEndPoint!);
        using var ss = ls.Accept();
        const long total = 1L << 30;
        var sw = Stopwatch.StartNew();
        var r = new Thread(() => { var b = new byte[1 << 20]; long got = 0; while (got < total) got += ss.Receive(b); });
        r.Start();
        var chunk = new byte[1 << 20];
        for (long sent = 0; sent < total; sent += chunk.Length) cs.Send(chunk);
        r.Join();
        TestContext.Out.WriteLine($"host: 1 GiB in {sw.Elapsed.TotalSeconds:F2}s = {total / sw.Elapsed.TotalSeconds / 1e9 * 8:F2} Gbit/s");
    }
}
