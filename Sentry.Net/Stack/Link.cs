namespace Sentry.Net.Stack;

/// <summary>What a link can do for the stack.</summary>
[Flags]
public enum LinkCapabilities
{
    None = 0,
    /// <summary>A loopback link: frames come back to this stack; IFF_LOOPBACK.</summary>
    Loopback = 1,
    /// <summary>
    /// Transport checksums need not be computed on send nor checked on receive (Linux's loopback
    /// does the same with CHECKSUM_PARTIAL): frames never leave this process. IPv4 header
    /// checksums are still made and checked.
    /// </summary>
    ChecksumOffload = 2,
    /// <summary>Frames carry an Ethernet header (ARP/NDP needed); otherwise they are bare IP packets.</summary>
    Ethernet = 4,
}

/// <summary>The stack as a link sees it: where received frames go.</summary>
public interface ILinkDispatcher
{
    /// <summary>
    /// One frame received from the link. The span is valid only during the call; the stack copies
    /// what it keeps. Never throws for any content.
    /// </summary>
    void DeliverFrame(ILinkEndpoint link, ReadOnlySpan<byte> frame);

    /// <summary>
    /// As <see cref="DeliverFrame(ILinkEndpoint, ReadOnlySpan{byte})"/>, for a frame whose transport
    /// checksum the host already checked or has yet to fill in (AF_PACKET's TP_STATUS_CSUM_VALID or
    /// TP_STATUS_CSUMNOTREADY: a packet from a local stack with checksum offload).
    /// </summary>
    void DeliverFrame(ILinkEndpoint link, ReadOnlySpan<byte> frame, bool checksumVerified);
}

/// <summary>
/// The seam between the stack and a network device: loopback, a TAP fd, AF_PACKET on a veth, or a
/// test link that loses frames.
/// </summary>
public interface ILinkEndpoint
{
    /// <summary>The largest IP packet the link carries (without a link header).</summary>
    int Mtu { get; }
    LinkCapabilities Capabilities { get; }
    /// <summary>The hardware address (6 bytes for Ethernet; empty or zeros otherwise).</summary>
    byte[] HardwareAddress { get; }
    /// <summary>Called once when the stack takes the link: frames received are delivered there from then on.</summary>
    void Attach(ILinkDispatcher dispatcher);
    /// <summary>
    /// Sends one frame. The span is valid only during the call. A loopback link may deliver it
    /// back through the dispatcher before returning (the stack calls this holding no locks).
    /// </summary>
    void WriteFrame(ReadOnlySpan<byte> frame);
}

/// <summary>The loopback device: every frame written comes straight back (Linux's lo).</summary>
public sealed class LoopbackLink : ILinkEndpoint
{
    ILinkDispatcher? _dispatcher;
    public int Mtu => 65536;
    public LinkCapabilities Capabilities => LinkCapabilities.Loopback | LinkCapabilities.ChecksumOffload;
    public byte[] HardwareAddress { get; } = new byte[6];
    public void Attach(ILinkDispatcher dispatcher) => _dispatcher = dispatcher;
    public void WriteFrame(ReadOnlySpan<byte> frame) => _dispatcher?.DeliverFrame(this, frame);
}
