/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging: one line per message, to stderr in the foreground and to syslog
 * once daemonized (rfs_log_to_syslog()), or to a sink of the caller's
 * (tests). When stderr is the journal (systemd's JOURNAL_STREAM names it),
 * each line starts with "<N>", its syslog priority, which the journal keeps
 * as the line's priority. No FUSE: region/ and registry/ log through this
 * too. The daemon's fs/ layer routes libfuse's own lines here
 * (rfs_log_line()), so both end up in the same place.
 *
 * Rules (STYLE.md): region/ and registry/ log at debug level only; fs/ and
 * main log once at the boundary. A client's mistake (bad name, missing file,
 * full quota) is never logged above debug: the mount tests fail on "error"
 * or "warning" in a healthy daemon's log.
 *
 * The level threshold and the sink are process-wide; set them before any
 * thread logs. Debug lines are printed only after rfs_log_set_debug(true)
 * (the daemon's -d option).
 */
#ifndef RFS_COMMON_LOG_H
#define RFS_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* The values are syslog(3)'s priorities (and libfuse's fuse_log_level). */
enum rfs_log_level {
	RFS_LOG_ERR = 3,
	RFS_LOG_WARNING = 4,
	RFS_LOG_NOTICE = 5,
	RFS_LOG_INFO = 6,
	RFS_LOG_DEBUG = 7,
};

/*
 * Where finished lines go: line is the whole message, newline included
 * ("regionfs: ...\n" for ours). Called with no lock held, from any thread.
 */
typedef void rfs_log_sink(enum rfs_log_level level, const char *line);

void rfs_log_set_debug(bool on);
bool rfs_log_debug_enabled(void);
/* Send later lines to sink; NULL: to stderr again (the default). */
void rfs_log_set_sink(rfs_log_sink *sink);
/* Send later lines to syslog (daemon mode) instead of stderr. */
void rfs_log_to_syslog(void);

/* Every message is one line: control characters in it (a newline in a
 * user's file name) are written as '?'. */
void rfs_log(enum rfs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A line another library formatted (libfuse's own, newline included): to
 * the sink as it is, whatever the debug setting (that library decides).
 */
void rfs_log_line(enum rfs_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Replace control characters (below 0x20, and 0x7f) in s by '?', in place:
 * for messages that name user-chosen strings and must stay one line. */
void rfs_log_printable(char *s);
/* Stricter, for values shown in attributes: every byte outside printable ASCII as '?'. */
void rfs_ascii_printable(char *s);

#define log_err(...) rfs_log(RFS_LOG_ERR, __VA_ARGS__)
#define log_warn(...) rfs_log(RFS_LOG_WARNING, __VA_ARGS__)
#define log_info(...) rfs_log(RFS_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (rfs_log_debug_enabled())                                                       \
			rfs_log(RFS_LOG_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif
