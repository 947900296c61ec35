using System.Diagnostics;
using System.Runtime.CompilerServices;
using Sentry.Gofer.Abi;
using Sentry.Gofer.Confinement;

namespace Sentry.Gofer.Tests;

/// <summary>
/// The kernel structs the Gofer passes to the host, and the constants it names, against what
/// gcc says for the same headers (a probe compiled at test time; ignored without gcc).
/// </summary>
public sealed class AbiTests
{
    static Dictionary<string, long>? s_probe;

    static Dictionary<string, long> Probe()
    {
        if (s_probe != null) return s_probe;
        if (!File.Exists("/usr/bin/gcc")) Assert.Ignore("gcc is needed to read the kernel headers' layouts");
        string dir = Directory.CreateTempSubdirectory("sentry-gofer-abi-").FullName;
        try
        {
            string source = Path.Combine(dir, "probe.c"), exe = Path.Combine(dir, "probe");
            File.WriteAllText(source, """
                #define _GNU_SOURCE
                #include <stdio.h>
                #include <stddef.h>
                #include <fcntl.h>
                #include <sys/stat.h>
                #include <sys/vfs.h>
                #include <sys/resource.h>
                #include <linux/openat2.h>
                #include <linux/mount.h>
                #include <linux/seccomp.h>
                #include <linux/filter.h>
                #include <linux/audit.h>
                #include <linux/capability.h>
                #include <sys/prctl.h>
                #define P(name, value) printf("%s %ld\n", name, (long)(value))
                int main(void) {
                    P("stat", sizeof(struct stat)); P("stat.st_mode", offsetof(struct stat, st_mode));
                    P("stat.st_rdev", offsetof(struct stat, st_rdev)); P("stat.st_size", offsetof(struct stat, st_size));
                    P("stat.st_blocks", offsetof(struct stat, st_blocks)); P("stat.st_mtim", offsetof(struct stat, st_mtim));
                    P("statfs", sizeof(struct statfs)); P("statfs.f_fsid", offsetof(struct statfs, f_fsid)); P("statfs.f_namelen", offsetof(struct statfs, f_namelen));
                    P("flock", sizeof(struct flock)); P("flock.l_start", offsetof(struct flock, l_start)); P("flock.l_pid", offsetof(struct flock, l_pid));
                    P("open_how", sizeof(struct open_how)); P("open_how.resolve", offsetof(struct open_how, resolve));
                    P("mount_attr", sizeof(struct mount_attr));
                    P("rlimit", sizeof(struct rlimit));
                    P("sock_filter", sizeof(struct sock_filter));
                    P("seccomp_data.nr", offsetof(struct seccomp_data, nr)); P("seccomp_data.arch", offsetof(struct seccomp_data, arch));
                    P("seccomp_data.args", offsetof(struct seccomp_data, args));
                    P("AUDIT_ARCH_X86_64", AUDIT_ARCH_X86_64); P("SECCOMP_RET_ALLOW", SECCOMP_RET_ALLOW); P("SECCOMP_RET_ERRNO", SECCOMP_RET_ERRNO);
                    P("SECCOMP_RET_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS);
                    P("O_PATH", O_PATH); P("O_NOFOLLOW", O_NOFOLLOW); P("O_DIRECTORY", O_DIRECTORY); P("O_CLOEXEC", O_CLOEXEC); P("O_TMPFILE", O_TMPFILE);
                    P("O_NOATIME", O_NOATIME); P("O_DIRECT", O_DIRECT); P("O_DSYNC", O_DSYNC);
                    P("AT_EMPTY_PATH", AT_EMPTY_PATH); P("AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW); P("AT_REMOVEDIR", AT_REMOVEDIR); P("AT_RECURSIVE", AT_RECURSIVE);
                    P("RESOLVE_BENEATH", RESOLVE_BENEATH); P("RESOLVE_NO_SYMLINKS", RESOLVE_NO_SYMLINKS); P("RESOLVE_NO_MAGICLINKS", RESOLVE_NO_MAGICLINKS);
                    P("F_OFD_GETLK", F_OFD_GETLK); P("F_OFD_SETLK", F_OFD_SETLK); P("F_DUPFD_CLOEXEC", F_DUPFD_CLOEXEC);
                    P("MOUNT_ATTR_RDONLY", MOUNT_ATTR_RDONLY); P("MOUNT_ATTR_NOSUID", MOUNT_ATTR_NOSUID); P("MOUNT_ATTR_NODEV", MOUNT_ATTR_NODEV);
                    P("PR_SET_NO_NEW_PRIVS", PR_SET_NO_NEW_PRIVS); P("PR_CAPBSET_DROP", PR_CAPBSET_DROP); P("PR_CAP_AMBIENT", PR_CAP_AMBIENT);
                    P("_LINUX_CAPABILITY_VERSION_3", _LINUX_CAPABILITY_VERSION_3);
                    return 0;
                }
                """);
            using (Process gcc = Process.Start("/usr/bin/gcc", ["-o", exe, source])!)
            {
                gcc.WaitForExit();
                Assert.That(gcc.ExitCode, Is.Zero, "compiling the probe");
            }
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true };
            using Process p = Process.Start(psi)!;
            s_probe = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')).ToDictionary(f => f[0], f => long.Parse(f[1]));
            p.WaitForExit();
            return s_probe;
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static void Same(string name, long ours) => Assert.That(ours, Is.EqualTo(Probe()[name]), name);

    [Test]
    public void Structs_HaveTheKernelsLayout()
    {
        Same("stat", Unsafe.SizeOf<LinuxStat>());
        Same("stat.st_mode", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxStat>(nameof(LinuxStat.st_mode)));
        Same("stat.st_rdev", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxStat>(nameof(LinuxStat.st_rdev)));
        Same("stat.st_size", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxStat>(nameof(LinuxStat.st_size)));
        Same("stat.st_blocks", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxStat>(nameof(LinuxStat.st_blocks)));
        Same("stat.st_mtim", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxStat>(nameof(LinuxStat.st_mtime)));
        Same("statfs", Unsafe.SizeOf<LinuxStatfs>());
        Same("statfs.f_fsid", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxStatfs>(nameof(LinuxStatfs.f_fsid0)));
        Same("statfs.f_namelen", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxStatfs>(nameof(LinuxStatfs.f_namelen)));
        Same("flock", Unsafe.SizeOf<LinuxFlock>());
        Same("flock.l_start", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxFlock>(nameof(LinuxFlock.l_start)));
        Same("flock.l_pid", (long)System.Runtime.InteropServices.Marshal.OffsetOf<LinuxFlock>(nameof(LinuxFlock.l_pid)));
        Same("open_how", Unsafe.SizeOf<OpenHow>());
        Same("open_how.resolve", (long)System.Runtime.InteropServices.Marshal.OffsetOf<OpenHow>(nameof(OpenHow.resolve)));
        Same("mount_attr", Unsafe.SizeOf<MountAttr>());
        Same("rlimit", Unsafe.SizeOf<Rlimit>());
        Same("sock_filter", Unsafe.SizeOf<SockFilter>());
        Same("seccomp_data.nr", Seccomp.OffsetNr);
        Same("seccomp_data.arch", Seccomp.OffsetArch);
        Same("seccomp_data.args", Seccomp.OffsetArg0);
        // struct xattr_args is newer than these headers: { __aligned_u64 value; __u32 size; __u32 flags; }.
        Assert.That(Unsafe.SizeOf<XattrArgs>(), Is.EqualTo(16));
    }

    [Test]
    public void Constants_AreTheHeadersValues()
    {
        Same("AUDIT_ARCH_X86_64", Seccomp.AUDIT_ARCH_X86_64);
        Same("SECCOMP_RET_ALLOW", Seccomp.SECCOMP_RET_ALLOW);
        Same("SECCOMP_RET_ERRNO", Seccomp.SECCOMP_RET_ERRNO);
        Same("SECCOMP_RET_KILL_PROCESS", Seccomp.SECCOMP_RET_KILL_PROCESS);
        Same("O_PATH", Linux.O_PATH); Same("O_NOFOLLOW", Linux.O_NOFOLLOW); Same("O_DIRECTORY", Linux.O_DIRECTORY);
        Same("O_CLOEXEC", Linux.O_CLOEXEC); Same("O_TMPFILE", Linux.__O_TMPFILE | Linux.O_DIRECTORY); // glibc folds O_DIRECTORY into its __O_TMPFILE; the kernel does not Same("O_NOATIME", Linux.O_NOATIME);
        Same("O_DIRECT", Linux.O_DIRECT); Same("O_DSYNC", Linux.O_DSYNC);
        Same("AT_EMPTY_PATH", Linux.AT_EMPTY_PATH); Same("AT_SYMLINK_NOFOLLOW", Linux.AT_SYMLINK_NOFOLLOW);
        Same("AT_REMOVEDIR", Linux.AT_REMOVEDIR); Same("AT_RECURSIVE", Linux.AT_RECURSIVE);
        Same("RESOLVE_BENEATH", (long)Linux.RESOLVE_BENEATH); Same("RESOLVE_NO_SYMLINKS", (long)Linux.RESOLVE_NO_SYMLINKS);
        Same("RESOLVE_NO_MAGICLINKS", (long)Linux.RESOLVE_NO_MAGICLINKS);
        Same("F_OFD_GETLK", Linux.F_OFD_GETLK); Same("F_OFD_SETLK", Linux.F_OFD_SETLK); Same("F_DUPFD_CLOEXEC", Linux.F_DUPFD_CLOEXEC);
        Same("MOUNT_ATTR_RDONLY", (long)Linux.MOUNT_ATTR_RDONLY); Same("MOUNT_ATTR_NOSUID", (long)Linux.MOUNT_ATTR_NOSUID);
        Same("MOUNT_ATTR_NODEV", (long)Linux.MOUNT_ATTR_NODEV);
        Same("PR_SET_NO_NEW_PRIVS", Linux.PR_SET_NO_NEW_PRIVS); Same("PR_CAPBSET_DROP", Linux.PR_CAPBSET_DROP); Same("PR_CAP_AMBIENT", Linux.PR_CAP_AMBIENT);
        Same("_LINUX_CAPABILITY_VERSION_3", Linux._LINUX_CAPABILITY_VERSION_3);
    }
}
