// `Sentry.Gofer.TestHost --root DIR --fd N [--read-only]`: the Gofer process as the host starts it.
return Sentry.Gofer.GoferProcess.Run(args);
