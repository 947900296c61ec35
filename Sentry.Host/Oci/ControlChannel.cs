namespace Sentry.Host.Oci;

/// <summary>
/// The control socket a container's sandbox process listens on (ROOT/ID/control.sock), through
/// which later CLI calls (`start`, `kill`, `exec`) reach it: a request line (with descriptors for
/// `exec`), then answer lines, "ok ..." or "error REASON". Only the owner of --root reaches it.
/// </summary>
public static class ControlChannel
{
    /// <summary>One request and its first answer line, or an "error ..." line when the sandbox cannot be reached.</summary>
    public static string Ask(string socketPath, string request)
    {
        using var c = ControlConnection.Connect(socketPath, out string problem);
        if (c == null) return "error " + problem;
        if (!c.Send(request)) return "error the sandbox closed the control connection";
        string? answer = c.ReceiveLine(out var fds);
        foreach (int f in fds) Sentry.Platform.HostSyscall.Call(3 /* close */, f);
        return answer ?? "error the sandbox closed the control connection";
    }

    /// <summary>
    /// Serves connections until the process ends, each on a thread of its own (an `exec` holds
    /// its connection until the process ends): <paramref name="handle"/> gets the connection with
    /// its request line and the descriptors that came with it, and answers on it.
    /// </summary>
    public static void Serve(string socketPath, Action<ControlConnection, string, int[]> handle)
    {
        int listenFd = ControlConnection.Listen(socketPath);
        var thread = new Thread(() =>
        {
            while (ControlConnection.Accept(listenFd) is { } c)
            {
                var worker = new Thread(() =>
                {
                    using (c)
                    {
                        string? request = c.ReceiveLine(out var fds);
                        if (request == null)
                        {
                            foreach (int f in fds) Sentry.Platform.HostSyscall.Call(3 /* close */, f);
                            return;
                        }
                        handle(c, request, fds);
                    }
                }) { IsBackground = true, Name = "sentry-control-request" };
                worker.Start();
            }
        }) { IsBackground = true, Name = "sentry-control" };
        thread.Start();
    }
}
