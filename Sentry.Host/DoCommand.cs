using Sentry.Kernel;
using Sentry.Platform;

namespace Sentry.Host;

/// <summary>`sentry do`: picks the platform, runs the sandbox, maps failures to exit codes.</summary>
public static class DoCommand
{
    public static int Execute(string platformName, SandboxOptions options)
    {
        IPlatform? platform = PlatformChooser.Choose(platformName, Console.Error);
        if (platform == null) return 1;
        try
        {
            return Sandbox.Run(platform, options);
        }
        catch (SandboxStartException e)
        {
            Console.Error.WriteLine(e.Message);
            return e.ExitCode;
        }
        finally
        {
            platform.Dispose();
        }
    }
}
