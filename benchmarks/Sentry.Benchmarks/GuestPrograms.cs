using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Sentry.Benchmarks;

/// <summary>
/// The C programs benchmarks run inside the sandbox (sources under <c>benchmarks/programs/</c>,
/// embedded in this assembly), compiled with <c>gcc -static -O2</c> on first use into a cache
/// directory under the system temp directory, keyed by a hash of the source.
/// </summary>
internal static class GuestPrograms
{
    static readonly string CacheDir = Path.Combine(Path.GetTempPath(), "sentry-benchmarks");

    /// <summary>Returns the path of the compiled program <paramref name="name"/> (for example "getppid_loop").</summary>
    public static string Compile(string name)
    {
        string source = ReadSource(name + ".c");
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)))[..12];
        string binary = Path.Combine(CacheDir, $"{name}-{hash}");
        if (File.Exists(binary))
            return binary;

        Directory.CreateDirectory(CacheDir);
        string unique = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
        string src = Path.Combine(CacheDir, $"{name}-{unique}.c");
        string tmp = Path.Combine(CacheDir, $"{name}-{unique}.out");
        File.WriteAllText(src, source);
        try
        {
            int status = HostCommand.Run("gcc", "-static", "-O2", "-pthread", "-o", tmp, src);
            if (status != 0)
                throw new InvalidOperationException($"gcc -static -O2 {name}.c failed with status {status} (is gcc with static glibc installed?)");
            File.Move(tmp, binary, overwrite: true); // atomic: concurrent benchmark processes may race here
        }
        finally
        {
            File.Delete(src);
            File.Delete(tmp);
        }
        return binary;
    }

    static string ReadSource(string file)
    {
        using Stream? s = Assembly.GetExecutingAssembly().GetManifestResourceStream("programs/" + file);
        if (s is null)
            throw new FileNotFoundException($"benchmark program {file} is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(s, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// Runs a host command and waits for it, with posix_spawnp and waitpid on its own pid only.
/// System.Diagnostics.Process is avoided on purpose: it installs SIGCHLD handling in the process
/// that also traces the sandbox's stubs.
/// </summary>
internal static unsafe partial class HostCommand
{
    [LibraryImport("libc")]
    private static partial int posix_spawnp(int* pid, byte* file, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitpid(int pid, int* status, int options);

    const int EINTR = 4;

    /// <summary>Returns the exit status, or 128 + signal number if the command was killed.</summary>
    public static int Run(string file, params string[] args)
    {
        var argv = new List<string>(args.Length + 1) { file };
        argv.AddRange(args);
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            env.Add($"{e.Key}={e.Value}");

        var allocated = new List<nint>();
        try
        {
            byte** argvp = ToCStrings(argv, allocated);
            byte** envp = ToCStrings(env, allocated);
            int pid;
            int rc = posix_spawnp(&pid, argvp[0], null, null, argvp, envp);
            if (rc != 0)
                throw new InvalidOperationException($"cannot start {file}: posix_spawnp errno {rc}");

            int status;
            while (waitpid(pid, &status, 0) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                    throw new InvalidOperationException($"waitpid({file}) failed: errno {errno}");
            }
            int sig = status & 0x7f;
            return sig == 0 ? (status >> 8) & 0xff : 128 + sig;
        }
        finally
        {
            foreach (nint p in allocated)
                Marshal.FreeHGlobal(p);
        }
    }

    static byte** ToCStrings(List<string> strings, List<nint> allocated)
    {
        var array = (byte**)Marshal.AllocHGlobal(sizeof(byte*) * (strings.Count + 1));
        allocated.Add((nint)array);
        for (int i = 0; i < strings.Count; i++)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(strings[i]);
            var p = (byte*)Marshal.AllocHGlobal(bytes.Length + 1);
            allocated.Add((nint)p);
            bytes.CopyTo(new Span<byte>(p, bytes.Length));
            p[bytes.Length] = 0;
            array[i] = p;
        }
        array[strings.Count] = null;
        return array;
    }
}
