namespace Sentry.Host;

/// <summary>
/// `sentry gofer --root DIR --fd N [--read-only]`: the process <see cref="GoferLauncher"/> starts.
/// It hands over to the Gofer, which confines itself and serves 9P until Sentry closes the
/// connection. (Sentry opens every descriptor close-on-exec, so only stdio and the socket arrive.)
/// </summary>
public static class GoferCommand
{
    public static int Run(string[] args) => Sentry.Gofer.GoferProcess.Run(args);
}
