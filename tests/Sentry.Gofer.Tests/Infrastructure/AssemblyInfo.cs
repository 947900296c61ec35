// Sentry runs on Linux only; this lets the tests use Unix-only .NET APIs (file modes) directly.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
