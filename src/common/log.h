/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging: a thin layer over fuse_log(), so the daemon's messages go to
 * stderr in the foreground and to syslog once daemonized (libfuse switches
 * the sink; see rfs_log_to_syslog()).
 *
 * Rules (STYLE.md): region/ and registry/ log at debug level only; fs/ and
 * main log once at the boundary. A client's mistake (bad name, missing file,
 * full quota) is never logged above debug: the mount tests fail on "error"
 * or "warning" in a healthy daemon's log.
 *
 * The level threshold is process-wide; debug lines are printed only after
 * rfs_log_set_debug(true) (the daemon's -d option).
 */
#ifndef RFS_COMMON_LOG_H
#define RFS_COMMON_LOG_H

#include <stdbool.h>

enum rfs_log_level {
	RFS_LOG_ERR,
	RFS_LOG_WARNING,
	RFS_LOG_INFO,
	RFS_LOG_DEBUG,
};

void rfs_log_set_debug(bool on);
bool rfs_log_debug_enabled(void);
/* Send later messages to syslog (daemon mode) instead of stderr. */
void rfs_log_to_syslog(void);

/* Every message is one line: control characters in it (a newline in a
 * user's file name) are written as '?'. */
void rfs_log(enum rfs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replace control characters (below 0x20, and 0x7f) in s by '?', in place:
 * for messages that name user-chosen strings and must stay one line. */
void rfs_log_printable(char *s);

#define log_err(...) rfs_log(RFS_LOG_ERR, __VA_ARGS__)
#define log_warn(...) rfs_log(RFS_LOG_WARNING, __VA_ARGS__)
#define log_info(...) rfs_log(RFS_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (rfs_log_debug_enabled())                                                       \
			rfs_log(RFS_LOG_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif
