using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Sentry.Net.Stack;
using static Sentry.Net.Tests.Net;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Tests;

public sealed class EthernetTests
{
    [DllImport("libc", SetLastError = true)] static extern unsafe int socketpair(int d, int t, int p, int* fds);
    [DllImport("libc")] static extern int close(int fd);

    static unsafe (int, int) Pair()
    {
        int* fds = stackalloc int[2];
        Assert.That(socketpair(1, 5, 0, fds), Is.Zero); // AF_UNIX, SOCK_SEQPACKET: one frame per message
        return (fds[0], fds[1]);
    }

    [TestCase(AF_INET)]
    [TestCase(AF_INET6)]
    public void TwoStacksOverAnFdLink_ResolveNeighbours_AndTalk(int family)
    {
        var (fa, fb) = Pair();
        var la = new FdLink(fa, 1500, new byte[] { 2, 0, 0, 0, 0, 1 }, ownsFd: true);
        var lb = new FdLink(fb, 1500, new byte[] { 2, 0, 0, 0, 0, 2 }, ownsFd: true);
        using var a = new NetworkStack();
        using var b = new NetworkStack();
        int ia = a.AddInterface("eth0", la), ib = b.AddInterface("eth0", lb);
        a.AddAddress(ia, V4("192.168.5.1", 0), 24); b.AddAddress(ib, V4("192.168.5.2", 0), 24);
        a.AddAddress(ia, V6("fd00:5::1", 0), 64); b.AddAddress(ib, V6("fd00:5::2", 0), 64);
        try
        {
            var l = Make(b, family, SOCK_STREAM);
            Assert.That(l.Bind(family == AF_INET ? V4("0.0.0.0", 80) : V6("::", 80)), Is.Zero);
            Assert.That(l.Listen(5), Is.Zero);
            var c = Make(a, family, SOCK_STREAM);
            Assert.That(Connect(c, family == AF_INET ? V4("192.168.5.2", 80) : V6("fd00:5::2", 80)), Is.Zero);
            var s = Accept(l);
            var data = new byte[300_000];
            new Random(5).NextBytes(data);
            var got = new byte[data.Length];
            int n = 0;
            var t = new Thread(() => n = RecvAll(s, got));
            t.Start();
            SendAll(c, data);
            c.Shutdown(1);
            t.Join();
            Assert.That(n, Is.EqualTo(data.Length));
            Assert.That(SHA256.HashData(got), Is.EqualTo(SHA256.HashData(data)));
            // Link-local addressing works too (IPv6).
            var ifs = a.Interfaces;
            Assert.That(ifs[0].Addresses.Any(x => x.Address.ToString().StartsWith("[fe80::")), Is.True);
        }
        finally { la.Dispose(); lb.Dispose(); }
    }

    [TestCase(AF_INET)]
    [TestCase(AF_INET6)]
    public void LargeUdpDatagrams_AreFragmented_AndReassembled(int family)
    {
        var (fa, fb) = Pair();
        var la = new FdLink(fa, 1500, new byte[] { 2, 0, 0, 0, 0, 1 }, ownsFd: true);
        var lb = new FdLink(fb, 1500, new byte[] { 2, 0, 0, 0, 0, 2 }, ownsFd: true);
        using var a = new NetworkStack();
        using var b = new NetworkStack();
        int ia = a.AddInterface("eth0", la), ib = b.AddInterface("eth0", lb);
        a.AddAddress(ia, V4("192.168.5.1", 0), 24); b.AddAddress(ib, V4("192.168.5.2", 0), 24);
        a.AddAddress(ia, V6("fd00:5::1", 0), 64); b.AddAddress(ib, V6("fd00:5::2", 0), 64);
        try
        {
            var u = Make(b, family, SOCK_DGRAM);
            Assert.That(u.Bind(family == AF_INET ? V4("0.0.0.0", 53) : V6("::", 53)), Is.Zero);
            var c = Make(a, family, SOCK_DGRAM);
            var to = family == AF_INET ? V4("192.168.5.2", 53) : V6("fd00:5::2", 53);
            var big = new byte[60000];
            new Random(6).NextBytes(big);
            Assert.That(c.Send(big, 0, true, to), Is.EqualTo(big.Length));
            WaitFor(u, POLLIN);
            var got = new byte[65536];
            Assert.That(u.Receive(got, 0, out _, out _), Is.EqualTo(big.Length));
            Assert.That(got.AsSpan(0, big.Length).SequenceEqual(big), Is.True);
            Assert.That(a.Interfaces[0].Counters.TxPackets, Is.GreaterThan(40), "sent as fragments");
        }
        finally { la.Dispose(); lb.Dispose(); }
    }

    static int Sh(string cmd, out string output)
    {
        var p = Process.Start(new ProcessStartInfo("/bin/sh", new[] { "-c", cmd }) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode;
    }

    /// <summary>
    /// A veth pair: one end in a network namespace made here with the host kernel's TCP/IP
    /// (10.99.x.1), the other end in ours with no address, driven by the stack over AF_PACKET
    /// (10.99.x.2). Native python talks to the stack and the stack to native python.
    /// </summary>
    [Test]
    public void VethToANativeNamespace_BothDirections()
    {
        int id = Environment.ProcessId % 200 + 20;
        string ns = $"sentrynet{id}", ours = $"snA{id}", theirs = $"snB{id}";
        if (Sh($"ip netns add {ns}", out var err) != 0) Assert.Ignore($"cannot make a network namespace: {err}");
        try
        {
            Assert.That(Sh($"ip link add {ours} type veth peer name {theirs} netns {ns} && ip link set {ours} up && " +
                           $"ip -n {ns} addr add 10.99.{id}.1/24 dev {theirs} && ip -n {ns} link set {theirs} up && ip -n {ns} link set lo up", out err), Is.Zero, err);
            // What the runtime would read from the interface before taking it over.
            Assert.That(Sh($"ip addr add 10.99.{id}.2/24 dev {ours} && ip route add 10.98.{id}.0/24 via 10.99.{id}.1 dev {ours}", out err), Is.Zero, err);
            var (hostAddrs, _) = NetStack.HostConfiguration(ours);
            Assert.That(hostAddrs.Select(a => $"{a.Address}/{a.PrefixLength}"), Does.Contain($"10.99.{id}.2:0/24"));
            Assert.That(Sh($"ip addr flush dev {ours}", out err), Is.Zero, err);
            using var s = NetStack.Sandbox(ours, "eth0", hostAddrs, new[] { V4($"10.99.{id}.1", 0) });
            // Stack server, native client.
            var l = Make(s, AF_INET, SOCK_STREAM);
            Assert.That(l.Bind(V4("0.0.0.0", 8080)), Is.Zero);
            Assert.That(l.Listen(16), Is.Zero);
            Exception? failed = null;
            var server = new Thread(() =>
            {
              try
              {
                var a = Accept(l, 20000);
                var req = new byte[4096];
                int n = 0;
                while (!Encoding.ASCII.GetString(req, 0, n).Contains("\r\n\r\n"))
                {
                    long r = a.Receive(req.AsSpan(n), 0, out _, out _);
                    if (r == -EAGAIN) { WaitFor(a, POLLIN, 20000); continue; }
                    if (r <= 0) break;
                    n += (int)r;
                }
                var body = new string('x', 100_000);
                SendAll(a, Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
                a.Close();
              }
              catch (Exception e) { failed = e; }
            });
            server.Start();
            string py = "import urllib.request;print(len(urllib.request.urlopen('http://10.99." + id + ".2:8080/').read()))";
            int pyExit = Sh($"ip netns exec {ns} timeout 20 python3 -c \"{py}\"", out var output);
            server.Join();
            Assert.That(failed, Is.Null, $"server: {failed}; stack: {s.LastInternalError}; tcp in {s.Stats.TcpInSegs} errs {s.Stats.TcpInErrs}; if {string.Join(" ", s.Interfaces.Select(i => $"{i.Name} rx {i.Counters.RxPackets} tx {i.Counters.TxPackets} drop {i.Counters.RxDropped}"))}");
            Assert.That(pyExit, Is.Zero, output);
            Assert.That(output.Trim(), Is.EqualTo("100000"));
            server.Join();

            // Native server, stack client.
            var srv = Process.Start(new ProcessStartInfo("/bin/sh", new[] { "-c",
                $"ip netns exec {ns} timeout 20 python3 -c \"import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('10.99.{id}.1',9000));s.listen();c,_=s.accept();d=c.recv(100);c.sendall(d.upper());c.close()\"" }))!;
            var c = Make(s, AF_INET, SOCK_STREAM);
            long rc = -1;
            for (int i = 0; i < 50 && rc != 0; i++)
            {
                c.Close();
                c = Make(s, AF_INET, SOCK_STREAM);
                rc = Connect(c, V4($"10.99.{id}.1", 9000));
                if (rc != 0) Thread.Sleep(100);
            }
            Assert.That(rc, Is.Zero);
            SendAll(c, "hello from the sandbox"u8);
            var buf = new byte[64];
            int got = RecvAll(c, buf);
            Assert.That(Encoding.ASCII.GetString(buf, 0, got), Is.EqualTo("HELLO FROM THE SANDBOX"));
            srv.WaitForExit(20000);

            // Fragmented UDP both ways: native python sends 20000 bytes, the stack echoes them.
            var u = Make(s, AF_INET, SOCK_DGRAM);
            Assert.That(u.Bind(V4("0.0.0.0", 5000)), Is.Zero);
            var echo = new Thread(() =>
            {
                try
                {
                    WaitFor(u, POLLIN, 20000);
                    var d = new byte[65536];
                    long n = u.Receive(d, 0, out var from, out _);
                    u.Send(d.AsSpan(0, (int)n), 0, true, from);
                }
                catch (Exception e) { failed = e; }
            });
            echo.Start();
            string upy = "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(10);d=bytes(range(256))*78+bytes(32);" +
                         "s.sendto(d,('10.99." + id + ".2',5000));r,_=s.recvfrom(65536);print(len(r),r==d)";
            int ux = Sh($"ip netns exec {ns} timeout 20 python3 -c \"{upy}\"", out var uout);
            echo.Join();
            Assert.That(failed, Is.Null);
            Assert.That(ux, Is.Zero, uout);
            Assert.That(uout.Trim(), Is.EqualTo("20000 True"));
        }
        finally
        {
            Sh($"ip link del {ours}", out _);
            Sh($"ip netns del {ns}", out _);
        }
    }
}
