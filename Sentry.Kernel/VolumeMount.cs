namespace Sentry.Kernel;

/// <summary>
/// A tree mounted into the sandbox at <see cref="Path"/> (a bind mount of a host directory, which
/// the Gofer serves): <see cref="Root"/> is its root node, normally a <see cref="Fs.GoferFs"/>'s.
/// The mount point is made in the root overlay when the container image lacks it.
/// </summary>
public sealed record VolumeMount(string Path, Vfs.Inode Root, bool ReadOnly);
