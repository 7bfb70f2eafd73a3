/*
 * `pytasking-run ctl`: the client of the control socket. Plain blocking
 * sockets, no libuv; speaks the protocol of ctlproto.h and knows nothing
 * of the server (control.c).
 */
#ifndef PYT_CTL_H
#define PYT_CTL_H

/*
 * Run `ctl` with argv[0] = "ctl": [-s SOCKET] [--json] COMMAND ARGS...
 * Returns the exit status: 0 done, 1 the supervisor refused or failed
 * (or get saw the end of the stream), 2 a usage error.
 */
int	ctl_main(int argc, char **argv);

#endif
