using System.Buffers.Binary;
using Sentry.Gofer.Abi;
using Sentry.Platform;
using static Sentry.Gofer.Abi.SyscallNumbers;

namespace Sentry.Gofer.Confinement;

/// <summary>The effective, permitted and inheritable capability sets capset(2) takes (capabilities 0 to 63).</summary>
internal readonly unsafe record struct CapabilitySets(ulong Effective, ulong Permitted, ulong Inheritable)
{
    /// <summary>Writes struct __user_cap_header_struct (version 3, this thread) and the two struct __user_cap_data_struct.</summary>
    public void Write(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dest, Linux._LINUX_CAPABILITY_VERSION_3);
        BinaryPrimitives.WriteInt32LittleEndian(dest[4..], 0);
        for (int i = 0; i < 2; i++)
        {
            Span<byte> d = dest.Slice(8 + 12 * i, 12);
            BinaryPrimitives.WriteUInt32LittleEndian(d, (uint)(Effective >> (32 * i)));
            BinaryPrimitives.WriteUInt32LittleEndian(d[4..], (uint)(Permitted >> (32 * i)));
            BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)(Inheritable >> (32 * i)));
        }
    }

    /// <summary>capset(2) on the calling thread: 0 or -errno.</summary>
    public int Apply()
    {
        byte* buf = stackalloc byte[32];
        Write(new Span<byte>(buf, 32));
        return (int)HostSyscall.Call(SYS_capset, (long)buf, (long)(buf + 8));
    }
}
