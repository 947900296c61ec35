// Inside namespace Sentry.* the name P9 means the namespace Sentry.P9, not its constants class.
global using P9Const = Sentry.P9.P9;
global using Errno = Sentry.Platform.Errno;
