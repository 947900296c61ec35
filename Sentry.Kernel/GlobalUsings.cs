// The errno table lives in Sentry.Platform, shared with the Gofer and the platforms.
global using Errno = Sentry.Platform.Errno;
