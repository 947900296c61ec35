namespace Sentry.P9;

/// <summary>
/// The type byte of a 9P2000.L message (Linux's enum p9_msg_t, without the P9_ prefix). Every
/// request Tx is answered by Rx = Tx + 1 or by Rlerror. Only the 9P2000.L set is listed: the
/// 9P2000 messages it replaces (Topen, Tcreate, Tstat, Twstat, Rerror) are not spoken.
/// </summary>
public enum P9MessageType : byte
{
    Rlerror = 7,
    Tstatfs = 8, Rstatfs = 9,
    Tlopen = 12, Rlopen = 13,
    Tlcreate = 14, Rlcreate = 15,
    Tsymlink = 16, Rsymlink = 17,
    Tmknod = 18, Rmknod = 19,
    Trename = 20, Rrename = 21,
    Treadlink = 22, Rreadlink = 23,
    Tgetattr = 24, Rgetattr = 25,
    Tsetattr = 26, Rsetattr = 27,
    Txattrwalk = 30, Rxattrwalk = 31,
    Txattrcreate = 32, Rxattrcreate = 33,
    Treaddir = 40, Rreaddir = 41,
    Tfsync = 50, Rfsync = 51,
    Tlock = 52, Rlock = 53,
    Tgetlock = 54, Rgetlock = 55,
    Tlink = 70, Rlink = 71,
    Tmkdir = 72, Rmkdir = 73,
    Trenameat = 74, Rrenameat = 75,
    Tunlinkat = 76, Runlinkat = 77,
    Tversion = 100, Rversion = 101,
    Tauth = 102, Rauth = 103,
    Tattach = 104, Rattach = 105,
    Tflush = 108, Rflush = 109,
    Twalk = 110, Rwalk = 111,
    Tread = 116, Rread = 117,
    Twrite = 118, Rwrite = 119,
    Tclunk = 120, Rclunk = 121,
    Tremove = 122, Rremove = 123,
}
