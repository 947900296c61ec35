// `sentry-gofer --root DIR --fd N [--read-only] [--volume M=VDIR]...`: the same process as
// `sentry gofer`, as a small executable of its own (GoferLauncher prefers it when it is beside sentry).
return Sentry.Gofer.GoferProcess.Run(args);
