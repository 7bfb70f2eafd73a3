/*
 * The sd_notify protocol without libsystemd: one datagram to the unix
 * socket named by $NOTIFY_SOCKET ("@name" for the abstract namespace).
 * No state; a no-op when the variable is not set.
 */
#ifndef PYT_NOTIFY_H
#define PYT_NOTIFY_H

/* Send "READY=1", "STOPPING=1", "RELOADING=1"...: 0, or -1 with errno. */
int	notify_send(const char *);

#endif
