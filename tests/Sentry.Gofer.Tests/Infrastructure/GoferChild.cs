using System.Runtime.InteropServices;
using System.Text;
using Sentry.P9;
using Sentry.P9.Tests;

namespace Sentry.Gofer.Tests;

/// <summary>
/// The real Gofer process (Sentry.Gofer.TestHost, which calls GoferProcess.Run as `sentry gofer`
/// does) started with posix_spawn like the host's GoferLauncher: its end of a socketpair as fd 3,
/// stderr to a pipe. The test talks 9P on the other end and inspects the process from outside
/// through /proc. Optionally wrapped in a command (setpriv to run without capabilities, strace -f
/// to list the system calls it makes: set GOFER_STRACE to a file path).
/// </summary>
public sealed unsafe class GoferChild : IDisposable
{
    [DllImport("libc", SetLastError = true)] static extern int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);
    [DllImport("libc")] static extern int posix_spawn_file_actions_init(void* fa);
    [DllImport("libc")] static extern int posix_spawn_file_actions_adddup2(void* fa, int fd, int newfd);
    [DllImport("libc")] static extern int posix_spawn_file_actions_destroy(void* fa);
    [DllImport("libc", SetLastError = true)] static extern int waitpid(int pid, int* status, int options);
    [DllImport("libc")] static extern int kill(int pid, int sig);

    const int GoferFd = 3;
    readonly int _stderrRead;
    int _exitStatus = int.MinValue;
    readonly bool _diagnostics;

    /// <summary>The Gofer's process id (under strace, strace's child).</summary>
    public int Pid { get; }
    readonly int _spawned;

    /// <summary>The Gofer under strace: strace's child, once it has become the Gofer (exec'd).</summary>
    static int TracedChild(int strace)
    {
        for (int i = 0; i < 1000; i++)
        {
            string children = File.ReadAllText($"/proc/{strace}/task/{strace}/children").Trim();
            foreach (string child in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                try
                {
                    if (new FileInfo($"/proc/{child}/exe").LinkTarget == Executable && Directory.Exists($"/proc/{child}/task")) return int.Parse(child);
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            Thread.Sleep(10);
        }
        throw new AssertionException("strace did not start the Gofer");
    }
    /// <summary>The test's end of the connection (the caller owns it once it made a client of it).</summary>
    public int Socket { get; }

    /// <summary>
    /// The apphost the test project's build placed beside the tests, or $GOFER_TESTHOST (e.g. a
    /// Native AOT build of Sentry.Gofer.TestHost, to run the same checks without the JIT).
    /// </summary>
    public static string Executable => Environment.GetEnvironmentVariable("GOFER_TESTHOST") is { Length: > 0 } host
        ? Path.GetFullPath(host)
        : Path.Combine(AppContext.BaseDirectory, "Sentry.Gofer.TestHost");

    /// <param name="diagnostics">
    /// Leave the .NET runtime's diagnostics on (its default): its EventPipe and debugger threads
    /// are more threads to confine, and it leaves its IPC socket and pipes behind in the host's
    /// /tmp (removed by <see cref="Dispose"/>). Off is what a Gofer should run with
    /// (DOTNET_EnableDiagnostics=0 in its environment).
    /// </param>
    public GoferChild(string root, bool readOnly, string[]? wrapper = null, string[]? extraArgs = null, bool diagnostics = false)
    {
        _diagnostics = diagnostics;
        (int test, int gofer) = Native.SocketPair();
        (int errRead, int errWrite) = Native.Pipe();
        _stderrRead = errRead;
        var argv = new List<string>();
        if (Environment.GetEnvironmentVariable("GOFER_STRACE") is string trace) argv.AddRange(["/usr/bin/strace", "-f", "-qq", "-o", trace]);
        if (wrapper != null) argv.AddRange(wrapper);
        argv.AddRange([Executable, "--root", root, "--fd", GoferFd.ToString()]);
        if (readOnly) argv.Add("--read-only");
        if (extraArgs != null) argv.AddRange(extraArgs);
        _spawned = Pid = Spawn(argv, [(gofer, GoferFd), (errWrite, 2)], diagnostics);
        if (argv[0] == "/usr/bin/strace") Pid = TracedChild(_spawned);
        Native.Close(gofer);
        Native.Close(errWrite);
        Socket = test;
    }

    /// <summary>Runs the Gofer with bad arguments: its exit status and stderr.</summary>
    public static (int Status, string Stderr) RunToExit(params string[] args)
    {
        (int errRead, int errWrite) = Native.Pipe();
        int pid = Spawn([Executable, .. args], [(errWrite, 2)], diagnostics: false);
        Native.Close(errWrite);
        int status = Wait(pid, TimeSpan.FromSeconds(60));
        string stderr = ReadAll(errRead);
        Native.Close(errRead);
        return (status, stderr);
    }

    static int Spawn(List<string> argv, (int Fd, int Target)[] dups, bool diagnostics)
    {
        var strings = argv.Select(a => Encoding.UTF8.GetBytes(a + "\0")).ToList();
        var variables = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => (string)e.Key != "DOTNET_EnableDiagnostics").Select(e => $"{e.Key}={e.Value}").ToList();
        if (!diagnostics) variables.Add("DOTNET_EnableDiagnostics=0");
        var env = variables.Select(v => Encoding.UTF8.GetBytes(v + "\0")).ToList();
        var handles = strings.Concat(env).Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToList();
        byte* fa = stackalloc byte[256];
        try
        {
            byte** av = stackalloc byte*[strings.Count + 1];
            for (int i = 0; i < strings.Count; i++) av[i] = (byte*)handles[i].AddrOfPinnedObject();
            av[strings.Count] = null;
            byte** ev = stackalloc byte*[env.Count + 1];
            for (int i = 0; i < env.Count; i++) ev[i] = (byte*)handles[strings.Count + i].AddrOfPinnedObject();
            ev[env.Count] = null;
            posix_spawn_file_actions_init(fa);
            foreach (var (fd, target) in dups) posix_spawn_file_actions_adddup2(fa, fd, target);
            int pid;
            int rc = posix_spawn(&pid, av[0], fa, null, av, ev);
            if (rc != 0) throw new InvalidOperationException($"posix_spawn {argv[0]}: errno {rc}");
            return pid;
        }
        finally
        {
            posix_spawn_file_actions_destroy(fa);
            handles.ForEach(h => h.Free());
        }
    }

    /// <summary>A client on the connection, version negotiated and attached to the export root.</summary>
    public P9Client Connect(out uint root, out P9Qid rootQid)
    {
        TestNative.SetReceiveTimeout(Socket, 30_000);
        var c = new P9Client(Socket);
        int v = c.Version();
        if (v != 0) throw new AssertionException($"Tversion to the Gofer process: {v}; stderr: {FinishAndReadStderr()}");
        Assert.That(c.Attach("root"u8, ""u8, 0, out root, out rootQid), Is.Zero, "Tattach");
        return c;
    }

    /// <summary>Waits for the process to exit (after the client closed) and returns its exit status (128+signal if killed).</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        if (_exitStatus == int.MinValue) _exitStatus = Wait(_spawned, timeout ?? TimeSpan.FromSeconds(30));
        return _exitStatus;
    }

    static int Wait(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        int status;
        while (true)
        {
            int rc = waitpid(pid, &status, 1 /* WNOHANG */);
            if (rc == pid) break;
            if (rc < 0) return -1;
            if (DateTime.UtcNow > deadline)
            {
                kill(pid, 9);
                waitpid(pid, &status, 0);
                throw new AssertionException($"the Gofer process {pid} did not exit within {timeout.TotalSeconds} s");
            }
            Thread.Sleep(10);
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }

    /// <summary>Everything the process wrote to stderr (waits for it to exit first).</summary>
    public string FinishAndReadStderr()
    {
        Native.Shutdown(Socket);
        WaitForExit();
        return ReadAll(_stderrRead);
    }

    static string ReadAll(int fd)
    {
        var bytes = new List<byte>();
        var buf = new byte[4096];
        fixed (byte* b = buf)
        {
            while (true)
            {
                long n = Tmds.Linux.LibC.read(fd, b, 4096);
                if (n <= 0) break;
                bytes.AddRange(buf.AsSpan(0, (int)n).ToArray());
            }
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>A /proc file of the process (or of one of its threads: "task/TID/status").</summary>
    public string Proc(string relative) => File.ReadAllText($"/proc/{Pid}/{relative}");

    /// <summary>The value of one "Name:\tvalue" line of /proc/PID/[task/TID/]status.</summary>
    public static string StatusField(string status, string name) =>
        status.Split('\n').First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

    /// <summary>The thread ids of the process.</summary>
    public int[] Threads() => Directory.GetDirectories($"/proc/{Pid}/task").Select(d => int.Parse(Path.GetFileName(d))).ToArray();

    public void Dispose()
    {
        if (_exitStatus == int.MinValue)
        {
            kill(_spawned, 9);
            int status;
            waitpid(_spawned, &status, 0);
            _exitStatus = -9;
        }
        Native.Close(_stderrRead);
        // What the runtime's diagnostics made in the host's /tmp and could not remove from inside its new root.
        if (_diagnostics)
            foreach (string litter in Directory.GetFiles("/tmp", $"dotnet-diagnostic-{Pid}-*").Concat(Directory.GetFiles("/tmp", $"clr-debug-pipe-{Pid}-*")))
                File.Delete(litter);
    }
}
