/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static bool debug_on;

static bool stderr_is_journal;
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;

/*
 * Under systemd, stderr may be a stream to the journal: systemd then sets
 * JOURNAL_STREAM to its "device:inode", and the journal takes a leading
 * "<N>" as the line's syslog priority (SyslogLevelPrefix=, on by default).
 */
static void detect_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	stderr_is_journal = env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 &&
			    fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
			    (unsigned long long)st.st_ino == ino;
}

static void stderr_sink(enum rfs_log_level level, const char *line)
{
	pthread_once(&journal_once, detect_journal);
	if (stderr_is_journal)
		fprintf(stderr, "<%d>%s", (int)level, line);
	else
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
