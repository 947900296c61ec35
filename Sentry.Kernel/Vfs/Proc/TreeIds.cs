namespace Sentry.Kernel.Vfs.Proc;

/// <summary>A process's place in the tree as /proc shows it (<see cref="ProcScope.ReadTreeIds"/>).</summary>
public readonly record struct TreeIds(int PPid, int Pgrp, int Sid, int Threads, int TtyNr, int Tpgid);
