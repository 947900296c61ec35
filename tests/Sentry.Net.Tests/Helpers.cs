using System.Net;
using Sentry.Net.Stack;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Tests;

/// <summary>Records readiness calls and lets a test wait for bits.</summary>
sealed class Waiter : IEndpointListener
{
    readonly object _lock = new();
    public int Calls;
    public int Seen;
    public readonly List<int> Events = new();
    public void OnReadiness(int events)
    {
        lock (_lock) { Calls++; Seen |= events; Events.Add(events); Monitor.PulseAll(_lock); }
    }
    public void Wait(Func<bool> cond, int ms = 10000)
    {
        var deadline = Environment.TickCount64 + ms;
        lock (_lock)
            while (!cond())
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0) throw new TimeoutException("condition not reached");
                Monitor.Wait(_lock, (int)Math.Min(left, 20));
            }
    }
}

static class Net
{
    public const int AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_DGRAM = 2;
    public const int POLLIN = 1, POLLOUT = 4, POLLERR = 8, POLLHUP = 0x10, POLLRDNORM = 0x40, POLLWRNORM = 0x100, POLLRDHUP = 0x2000;
    public const int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_LINGER = 13, SO_REUSEPORT = 15;
    public const int IPPROTO_TCP = 6, IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26, TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_CORK = 3, TCP_INFO = 11;
    public const int MSG_PEEK = 2, MSG_TRUNC = 0x20, MSG_MORE = 0x8000;

    public static SockAddrInet V4(string ip, int port) => new(AF_INET, IPAddress.Parse(ip).GetAddressBytes(), (ushort)port);
    public static SockAddrInet V6(string ip, int port) => new(AF_INET6, IPAddress.Parse(ip).GetAddressBytes(), (ushort)port);

    public static IEndpoint Make(INetworkStack s, int family, int type)
    {
        Assert.That(s.Create(family, type, 0, out var e), Is.Zero);
        return e!;
    }

    public static void SetInt(IEndpoint e, int level, int name, int v)
    {
        Assert.That(e.SetOption(level, name, BitConverter.GetBytes(v)), Is.Zero, $"setsockopt {level}/{name}");
    }

    public static int GetInt(IEndpoint e, int level, int name)
    {
        var b = new byte[4];
        Assert.That(e.GetOption(level, name, b), Is.EqualTo(4));
        return BitConverter.ToInt32(b);
    }

    /// <summary>Waits until (Readiness &amp; bits) != 0, by polling and by the listener.</summary>
    public static void WaitFor(IEndpoint e, int bits, int ms = 10000)
    {
        var deadline = Environment.TickCount64 + ms;
        var spin = new SpinWait();
        while ((e.Readiness & bits) == 0)
        {
            if (Environment.TickCount64 > deadline) throw new TimeoutException($"readiness {e.Readiness:x} never had {bits:x}");
            if (spin.Count < 2000) spin.SpinOnce(-1); else Thread.Sleep(1);
        }
    }

    /// <summary>A listener on 127.0.0.1 (or ::1) with an ephemeral port; returns its address.</summary>
    public static IEndpoint Listen(INetworkStack s, int family, out SockAddrInet addr, int backlog = 128)
    {
        var l = Make(s, family, SOCK_STREAM);
        Assert.That(l.Bind(family == AF_INET ? V4("127.0.0.1", 0) : V6("::1", 0)), Is.Zero);
        Assert.That(l.Listen(backlog), Is.Zero);
        Assert.That(l.GetLocalAddress(out addr), Is.Zero);
        return l;
    }

    /// <summary>A blocking connect as the kernel does it: Connect, wait for POLLOUT, Connect again.</summary>
    public static long Connect(IEndpoint c, SockAddrInet to, int ms = 10000)
    {
        long r = c.Connect(to);
        if (r != -EINPROGRESS) return r;
        WaitFor(c, POLLOUT | POLLERR | POLLHUP, ms);
        return c.Connect(to);
    }

    public static IEndpoint Accept(IEndpoint l, int ms = 10000)
    {
        WaitFor(l, POLLIN, ms);
        Assert.That(l.Accept(out var a, out _), Is.Zero);
        return a!;
    }

    public static (IEndpoint Client, IEndpoint Server, IEndpoint Listener) Pair(INetworkStack s, int family = AF_INET)
    {
        var l = Listen(s, family, out var addr);
        var c = Make(s, family, SOCK_STREAM);
        Assert.That(Connect(c, addr), Is.Zero);
        var a = Accept(l);
        return (c, a, l);
    }

    public static void SendAll(IEndpoint e, ReadOnlySpan<byte> data, int ms = 30000)
    {
        var deadline = Environment.TickCount64 + ms;
        while (data.Length > 0)
        {
            long n = e.Send(data, 0, false, default);
            if (n == -EAGAIN)
            {
                if (Environment.TickCount64 > deadline) throw new TimeoutException("send stuck");
                WaitFor(e, POLLOUT | POLLERR, ms);
                continue;
            }
            if (n < 0) throw new InvalidOperationException($"send: {n}");
            data = data[(int)n..];
        }
    }

    /// <summary>Reads exactly buffer.Length bytes (or until EOF); returns the count.</summary>
    public static int RecvAll(IEndpoint e, Span<byte> buffer, int ms = 30000)
    {
        int got = 0;
        var deadline = Environment.TickCount64 + ms;
        while (got < buffer.Length)
        {
            long n = e.Receive(buffer[got..], 0, out _, out _);
            if (n == -EAGAIN)
            {
                if (Environment.TickCount64 > deadline) throw new TimeoutException($"recv stuck at {got}");
                WaitFor(e, POLLIN | POLLERR | POLLHUP | POLLRDHUP, ms);
                continue;
            }
            if (n < 0) throw new InvalidOperationException($"recv: {n}");
            if (n == 0) break;
            got += (int)n;
        }
        return got;
    }
}
