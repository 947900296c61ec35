// Sentry runs Linux programs on Linux only; so do its tests (Unix file modes, ptrace, KVM).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Fixtures run two at a time: most of a test's time is spent waiting on the programs it starts
// (process start-up, the platform's round trips, sleeps), and the whole suite runs once per
// platform. Every fixture keeps to its own names, ports (in private network namespaces),
// temporary directories and daemons, so none depends on another's absence.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(2)]
