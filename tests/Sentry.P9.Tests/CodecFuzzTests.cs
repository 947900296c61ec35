using System.Buffers.Binary;

namespace Sentry.P9.Tests;

/// <summary>
/// Random and mutated frames: decoding never throws, and whatever does decode encodes back to
/// exactly the bytes it came from (so no field is dropped or invented on the way).
/// </summary>
public sealed class CodecFuzzTests
{
    [Test]
    public void TenThousandRandomFrames_NeverThrow()
    {
        var rng = new Random(20240521);
        List<byte[]> samples = Codec.Samples();
        P9MessageType[] types = Enum.GetValues<P9MessageType>();
        int decoded = 0, refused = 0;
        for (int i = 0; i < 10_000; i++)
        {
            byte[] frame = (i % 4) switch
            {
                0 => RandomFrame(rng, types),
                1 => Mutate(rng, samples[rng.Next(samples.Count)]),
                2 => Truncate(rng, samples[rng.Next(samples.Count)]),
                _ => Retype(rng, samples[rng.Next(samples.Count)], types),
            };
            byte[]? again = Codec.DecodeAndEncode(frame, maxSize: 1024);
            if (again == null) { refused++; continue; }
            decoded++;
            Assert.That(again, Is.EqualTo(frame), $"frame {i} ({(P9MessageType)frame[4]}) re-encodes differently");
            if ((P9MessageType)frame[4] == P9MessageType.Rreaddir && P9Frame.TryDecode(frame, 1024, out _, out Rreaddir rd))
            {
                var dirents = new P9DirentReader(rd.Data);
                while (dirents.TryNext(out P9Dirent e)) _ = e.Name.Length;
            }
        }
        // Both outcomes must be common, or the fuzzing is not reaching the decoders.
        Assert.That(decoded, Is.GreaterThan(1000));
        Assert.That(refused, Is.GreaterThan(1000));
    }

    static byte[] RandomFrame(Random rng, P9MessageType[] types)
    {
        var f = new byte[rng.Next(0, 200)];
        rng.NextBytes(f);
        if (f.Length >= 5)
        {
            if (rng.Next(4) != 0) BinaryPrimitives.WriteUInt32LittleEndian(f, (uint)f.Length);
            if (rng.Next(4) != 0) f[4] = (byte)types[rng.Next(types.Length)];
        }
        return f;
    }

    static byte[] Mutate(Random rng, byte[] sample)
    {
        byte[] f = (byte[])sample.Clone();
        int flips = rng.Next(1, 4);
        for (int j = 0; j < flips; j++)
        {
            int at = rng.Next(4, f.Length); // keep the size so the body is what gets tested
            f[at] = rng.Next(3) == 0 ? (byte)rng.Next(256) : (byte)(f[at] ^ (1 << rng.Next(8)));
        }
        return f;
    }

    static byte[] Truncate(Random rng, byte[] sample)
    {
        byte[] f = sample[..rng.Next(0, sample.Length + 1)];
        if (f.Length >= 4 && rng.Next(2) == 0) BinaryPrimitives.WriteUInt32LittleEndian(f, (uint)f.Length);
        return f;
    }

    static byte[] Retype(Random rng, byte[] sample, P9MessageType[] types)
    {
        byte[] f = (byte[])sample.Clone();
        f[4] = (byte)types[rng.Next(types.Length)];
        return f;
    }
}
