namespace Sentry.Kernel;

/// <summary>
/// A file the sandbox starts with at <see cref="Path"/>, holding <see cref="Content"/>: how an OCI
/// bind mount of a single host file (/etc/hosts, /etc/resolv.conf) is given, as a copy in the
/// root's upper layer. The host's file is read once by the runtime and never written.
/// </summary>
public sealed record CopiedFile(string Path, byte[] Content);
