namespace Sentry.Tests.Infrastructure;

/// <summary>The three ways each C test program is built: the loader paths a real system meets.</summary>
public enum Flavour
{
    /// <summary>gcc, dynamically linked against glibc (PIE + ld.so interpreter).</summary>
    GlibcDynamic,
    /// <summary>gcc -static: static glibc, no interpreter.</summary>
    GlibcStatic,
    /// <summary>musl-gcc -static: a different libc with its own syscall habits.</summary>
    MuslStatic,
}

/// <summary>
/// Compiles tests/programs/*.c at test time into the test output (programs-build/&lt;flavour&gt;/),
/// once per run and only when a source or header is newer than the binary. A missing
/// toolchain makes the test Ignored with the package to install; a compile error fails it.
/// </summary>
public static class TestPrograms
{
    static readonly object Gate = new();
    static readonly Dictionary<(string, Flavour), string> Built = new();

    public static string BuildDir => Path.Combine(RepoPaths.TestOutput, "programs-build");

    /// <summary>Path of tests/programs/<paramref name="name"/>.c built as <paramref name="flavour"/>.</summary>
    public static string Get(string name, Flavour flavour)
    {
        lock (Gate)
        {
            if (Built.TryGetValue((name, flavour), out var done))
                return done;
            var (compiler, flags, package) = Toolchain(flavour);
            var cc = HostTools.Find(compiler);
            if (cc == null)
                Assert.Ignore($"{compiler} not installed (apt-get install {package}); {flavour} programs cannot be built");
            var output = Compile(cc, flags, $"{name}.c", Path.Combine(BuildDir, flavour.ToString()), out var error);
            if (output == null)
            {
                // Static glibc needs libc6-dev's libc.a; that is a missing toolchain part, not a bug.
                if (error.Contains("cannot find -lc", StringComparison.Ordinal))
                    Assert.Ignore($"static libc missing for {flavour} (apt-get install {package}): {error.Trim()}");
                Assert.Fail($"compiling {name}.c as {flavour} failed:\n{error}");
            }
            Built[(name, flavour)] = output!;
            return output!;
        }
    }

    /// <summary>Builds a host-side helper with gcc; null when gcc is missing. Fails on compile errors.</summary>
    internal static string? TryBuildProbe(string relativeSource)
    {
        lock (Gate)
        {
            var cc = HostTools.Find("gcc");
            if (cc == null)
                return null;
            var output = Compile(cc, [], relativeSource, Path.Combine(BuildDir, "probes"), out var error);
            return output ?? throw new AssertionException($"compiling {relativeSource} failed:\n{error}");
        }
    }

    static (string Compiler, string[] Flags, string Package) Toolchain(Flavour f) => f switch
    {
        Flavour.GlibcDynamic => ("gcc", [], "gcc libc6-dev"),
        Flavour.GlibcStatic => ("gcc", ["-static"], "gcc libc6-dev"),
        Flavour.MuslStatic => ("musl-gcc", ["-static"], "musl-tools"),
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };

    static string? Compile(string cc, string[] flags, string relativeSource, string outDir, out string error)
    {
        error = "";
        var source = Path.Combine(RepoPaths.ProgramsSource, relativeSource);
        if (!File.Exists(source))
            throw new AssertionException($"test program source missing: {source}");
        Directory.CreateDirectory(outDir);
        var output = Path.Combine(outDir, Path.GetFileNameWithoutExtension(source));
        if (IsUpToDate(output, source))
            return output;

        // Build to a private name and rename, so a half-written binary is never run.
        var tmp = $"{output}.tmp{Environment.ProcessId}";
        var r = ProcessRunner.Run(cc,
            [.. flags, "-O1", "-g0", "-Wall", "-Wextra", "-I", RepoPaths.ProgramsSource, "-o", tmp, source],
            timeout: TimeSpan.FromSeconds(120));
        if (r.ExitCode != 0)
        {
            File.Delete(tmp);
            error = $"{r.Command}\n{r.StderrText}{r.StdoutText}";
            return null;
        }
        File.Move(tmp, output, overwrite: true);
        return output;
    }

    // Up to date when the binary is newer than its source and every shared header.
    static bool IsUpToDate(string output, string source)
    {
        if (!File.Exists(output))
            return false;
        var built = File.GetLastWriteTimeUtc(output);
        var inputs = Directory.EnumerateFiles(RepoPaths.ProgramsSource, "*.h").Append(source);
        return inputs.All(i => File.GetLastWriteTimeUtc(i) <= built);
    }
}
