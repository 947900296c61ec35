namespace Sentry.Platform;

/// <summary>Page protection bits with the values of Linux's PROT_* constants.</summary>
[Flags]
public enum Protection
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
}
