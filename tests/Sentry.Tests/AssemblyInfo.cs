// Sentry runs Linux programs on Linux only; so do its tests (Unix file modes, ptrace, KVM).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
