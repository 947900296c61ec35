namespace Sentry.Platform;

/// <summary>
/// Random bytes from the host's getrandom(2). Used instead of RandomNumberGenerator, whose first
/// use loads and initialises OpenSSL: about 10 ms of every sandbox's start-up for 16 bytes of AT_RANDOM.
/// </summary>
public static unsafe class HostRandom
{
    const int SYS_getrandom = 318;

    public static void Fill(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                long n = HostSyscall.CallRestarting(SYS_getrandom, (long)(p + done), buffer.Length - done, 0);
                if (n <= 0) throw new InvalidOperationException($"getrandom failed: errno {-n}");
                done += (int)n;
            }
        }
    }
}
