// Inside namespace Sentry.* the name P9 means the namespace Sentry.P9, not its constants class.
global using P9Const = Sentry.P9.P9;
// The errno table lives in Sentry.Platform, shared with Sentry and the platforms.
global using Errno = Sentry.Platform.Errno;
