namespace Sentry.Kernel;

/// <summary>A tmpfs mounted at <see cref="Path"/> when the sandbox starts (an OCI mount of type tmpfs), with mount(8) options ("size=64m", "mode=1777", "nosuid" ...).</summary>
public sealed record TmpfsMount(string Path, IReadOnlyList<string> Options);
