using System.Text;
using Sentry.Platform.Ptrace;

namespace Sentry.Tests;

/// <summary>
/// The ptrace stub runs from prebuilt bytes (Sentry.Platform.Ptrace/StubImage.Prebuilt.cs) so
/// start-up does not pay for Iced; its source is the Iced listing in StubImage.Assemble. This
/// keeps the two equal: after changing the listing, paste the file this test prints.
/// </summary>
public sealed class StubImageTests
{
    [Test]
    public void PrebuiltBytesAreWhatIcedAssembles()
    {
        var a = StubImage.Assemble();
        string expected = PrebuiltSource(a);
        bool same = StubImage.Image.SequenceEqual(a.Elf)
            && StubImage.SyscallSite == StubImage.Base + 0x100 + a.SyscallSite
            && StubImage.CloneSite == StubImage.Base + 0x100 + a.CloneSite
            && StubImage.SyscallLoop == StubImage.Base + 0x100 + a.SyscallLoop;
        Assert.That(same, Is.True, "StubImage.Prebuilt.cs is stale; replace it with:\n" + expected);
    }

    /// <summary>The C# source of StubImage.Prebuilt.cs for an assembled stub.</summary>
    internal static string PrebuiltSource(StubImage.Assembled a)
    {
        var sb = new StringBuilder();
        sb.AppendLine("// Generated from StubImage.Assemble (Iced); StubImageTests checks it and prints a new copy when stale.");
        sb.AppendLine("namespace Sentry.Platform.Ptrace;");
        sb.AppendLine();
        sb.AppendLine("internal static partial class StubImage");
        sb.AppendLine("{");
        sb.AppendLine($"    const ulong PrebuiltSyscallSite = 0x{a.SyscallSite:x}, PrebuiltCloneSite = 0x{a.CloneSite:x}, PrebuiltSyscallLoop = 0x{a.SyscallLoop:x};");
        sb.AppendLine();
        sb.AppendLine("    static ReadOnlySpan<byte> Prebuilt =>");
        sb.AppendLine("    [");
        for (int i = 0; i < a.Elf.Length; i += 16)
            sb.AppendLine("        " + string.Join(" ", a.Elf.Skip(i).Take(16).Select(b => $"0x{b:x2},")));
        sb.AppendLine("    ];");
        sb.AppendLine("}");
        return sb.ToString();
    }
}
