namespace Sentry.Tests.Infrastructure;

/// <summary>
/// A host temp directory the tests prepare and the sandbox reads through its read-only view
/// of the host root. Layout of <see cref="DataDir"/> (the C programs rely on it):
///   hello.txt  "hello, world\n" (0644)
///   link       symlink to hello.txt
///   sub/       0755, holding "a" ("A\n")
///   pages.bin  three 4 KiB pages, page i filled with 'A'+i
/// Modes are set explicitly so the host umask cannot change what the programs print.
/// </summary>
public sealed class TestData : IDisposable
{
    public string Root { get; }
    public string DataDir { get; }

    TestData(string root)
    {
        Root = root;
        DataDir = Path.Combine(root, "data");
    }

    public static TestData Create()
    {
        var root = Directory.CreateTempSubdirectory("sentry-tests-").FullName;
        // Traversable by whatever uid the sandboxed program appears to have.
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var t = new TestData(root);
        Directory.CreateDirectory(t.DataDir);
        File.SetUnixFileMode(t.DataDir, (UnixFileMode)0b111_101_101);
        t.WriteFile("data/hello.txt", "hello, world\n"u8.ToArray());
        File.CreateSymbolicLink(Path.Combine(t.DataDir, "link"), "hello.txt");
        var sub = Path.Combine(t.DataDir, "sub");
        Directory.CreateDirectory(sub);
        File.SetUnixFileMode(sub, (UnixFileMode)0b111_101_101);
        t.WriteFile("data/sub/a", "A\n"u8.ToArray());
        var pages = new byte[3 * 4096];
        for (int i = 0; i < pages.Length; i++)
            pages[i] = (byte)('A' + i / 4096);
        t.WriteFile("data/pages.bin", pages);
        return t;
    }

    /// <summary>Writes <paramref name="content"/> to Root/<paramref name="relative"/> with the given mode.</summary>
    public string WriteFile(string relative, byte[] content, UnixFileMode mode = (UnixFileMode)0b110_100_100)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    /// <summary>A deterministic pseudo-random file of <paramref name="size"/> bytes (xorshift64, fixed seed).</summary>
    public string WriteDeterministicFile(string relative, long size)
    {
        var path = Path.Combine(Root, relative);
        if (File.Exists(path) && new FileInfo(path).Length == size)
            return path;
        using (var f = new FileStream(path, FileMode.Create, FileAccess.Write))
        {
            var buf = new byte[1 << 20];
            ulong x = 0x2545F4914F6CDD1DUL;
            for (long done = 0; done < size; done += buf.Length)
            {
                for (int i = 0; i < buf.Length; i += 8)
                {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    BitConverter.TryWriteBytes(buf.AsSpan(i), x);
                }
                f.Write(buf, 0, (int)Math.Min(buf.Length, size - done));
            }
        }
        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
