using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Signals;

/// <summary>What SIG_DFL does for each signal (signal(7)).</summary>
public enum DefaultAction { Terminate, Core, Ignore, Stop, Continue }

public static class DefaultActions
{
    public static DefaultAction Of(int sig) => sig switch
    {
        Linux.SIGQUIT or Linux.SIGILL or Linux.SIGTRAP or Linux.SIGABRT or Linux.SIGBUS or Linux.SIGFPE or Linux.SIGSEGV
            or 24 /* SIGXCPU */ or 25 /* SIGXFSZ */ or 31 /* SIGSYS */ => DefaultAction.Core,
        Linux.SIGCHLD or 23 /* SIGURG */ or 28 /* SIGWINCH */ => DefaultAction.Ignore,
        Linux.SIGCONT => DefaultAction.Continue,
        Linux.SIGSTOP or Linux.SIGTSTP or 21 /* SIGTTIN */ or 22 /* SIGTTOU */ => DefaultAction.Stop,
        _ => DefaultAction.Terminate,
    };
}
