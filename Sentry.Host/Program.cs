using Sentry.Host;

return Cli.Run(args);
