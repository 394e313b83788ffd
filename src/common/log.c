/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

static bool debug_on;

static void stderr_sink(enum rfs_log_level level, const char *line)
{
	fputs(line, stderr);
}

static void syslog_sink(enum rfs_log_level level, const char *line)
{
	syslog((int)level, "%s", line);
}

static rfs_log_sink *sink = stderr_sink;

void rfs_log_set_debug(bool on)
{
	debug_on = on;
}

bool rfs_log_debug_enabled(void)
{
	return debug_on;
}

void rfs_log_set_sink(rfs_log_sink *s)
{
	sink = s ? s : stderr_sink;
}

void rfs_log_to_syslog(void)
{
	openlog("regionfs", LOG_PID, LOG_DAEMON);
	rfs_log_set_sink(syslog_sink);
}

void rfs_log_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void rfs_ascii_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

void rfs_log(enum rfs_log_level level, const char *fmt, ...)
{
	char buf[1024], line[sizeof(buf) + 16];
	va_list ap;

	if (level == RFS_LOG_DEBUG && !debug_on)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rfs_log_printable(buf);
	snprintf(line, sizeof(line), "regionfs: %s\n", buf);
	sink(level, line);
}

void rfs_log_line(enum rfs_log_level level, const char *fmt, va_list ap)
{
	char buf[1024], *big = NULL;
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	/* Unlike ours, these lines are not cut (libfuse printed them whole). */
	if ((size_t)n >= sizeof(buf) && vasprintf(&big, fmt, ap) < 0)
		big = NULL;
	sink(level, big ? big : buf);
	free(big);
}
