using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Net;

public sealed partial class NetlinkSocket
{
    public static long Create(Task t, int kind, int protocol, int flags, out SocketFile? socket)
    {
        socket = null;
        t.Sandbox.ReportUnsupported("socket family 16");
        return -Errno.EAFNOSUPPORT;
    }
}
