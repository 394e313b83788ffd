/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include <fuse_log.h>

static bool debug_on;

void rfs_log_set_debug(bool on)
{
	debug_on = on;
}

bool rfs_log_debug_enabled(void)
{
	return debug_on;
}

/* fmt comes from fuse_log(): the format attribute lets clang's -Wformat=2 see that. */
static void syslog_sink(enum fuse_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void syslog_sink(enum fuse_log_level level, const char *fmt, va_list ap)
{
	vsyslog((int)level, fmt, ap);
}

void rfs_log_to_syslog(void)
{
	openlog("regionfs", LOG_PID, LOG_DAEMON);
	fuse_set_log_func(syslog_sink);
}

void rfs_log_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void rfs_log(enum rfs_log_level level, const char *fmt, ...)
{
	static const enum fuse_log_level map[] = {
		[RFS_LOG_ERR] = FUSE_LOG_ERR,
		[RFS_LOG_WARNING] = FUSE_LOG_WARNING,
		[RFS_LOG_INFO] = FUSE_LOG_INFO,
		[RFS_LOG_DEBUG] = FUSE_LOG_DEBUG,
	};
	char buf[1024];
	va_list ap;

	if (level == RFS_LOG_DEBUG && !debug_on)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rfs_log_printable(buf);
	fuse_log(map[level], "regionfs: %s\n", buf);
}
