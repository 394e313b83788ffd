/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's side of the daemon (host.h): privileges, limits, kernel knobs.
 */
#include "fs/host.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fsid.h"
#include "common/log.h"
#include "fs/caller.h"
#include "fs/uring.h"
#include "region/region.h"

bool host_is_root(void)
{
	/* CAP_SYS_ADMIN in the effective set: what mounting needs. */
	struct fsid_caps c;

	if (fsid_caps_get(&c) < 0)
		return geteuid() == 0;
	return c.eff & FSID_CAP_BIT(CAP_SYS_ADMIN);
}

/*
 * The store keeps at most a budget of region fds open (RLIMIT_NOFILE less a
 * reserve) and reopens the others on demand; memfd, persistent-store and
 * bound regions keep theirs for good, so for those the open-file limit
 * bounds their number. Lift the soft limit to the hard one, and as root the
 * hard one to fs.nr_open: a larger budget means fewer reopens. Failure only
 * means a smaller budget, down to STORE_NOFILE_MIN: below that, -EMFILE and a
 * line that names the limit, the value it has and the value needed.
 */
static int raise_nofile_limit(void)
{
	struct rlimit rl;
	unsigned long nr_open = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");

	if (f) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0; /* cannot happen: the store then runs without a budget */
	if (nr_open > rl.rlim_max) {
		struct rlimit want = { .rlim_cur = nr_open, .rlim_max = nr_open };

		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return 0;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_debug("cannot raise the open-file limit: %m");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < STORE_NOFILE_MIN) {
		fprintf(stderr,
			"regionfs: the open-file limit RLIMIT_NOFILE (ulimit -n) is %llu; "
			"regionfs needs at least %u\n",
			(unsigned long long)rl.rlim_cur, STORE_NOFILE_MIN);
		return -EMFILE;
	}
	return 0;
}

int host_set_limits(void)
{
	int r = raise_nofile_limit();

	if (r < 0)
		return r;
	/*
	 * The open-file limit was the last use of CAP_SYS_RESOURCE: without
	 * it, no write by the daemon passes a file system's root reserve for
	 * a user (it allocates with a fsuid other than 0: the binder's in a
	 * bound file, 65534 in a store's files, see region_alloc_enter() in
	 * region.c and fsid.h) nor a quota hard limit. Before any thread
	 * exists: capabilities are per thread.
	 */
	r = caller_drop_resource();
	if (r < 0)
		fprintf(stderr, "regionfs: cannot drop CAP_SYS_RESOURCE: %s\n", strerror(-r));
	return r;
}

/*
 * Lift the FUSE writeback throttle (1% of dirty memory, strictly enforced)
 * that otherwise caps writes into cached-mode mappings at ~1 GB/s. Only
 * root may; failure just leaves the kernel default (debug log).
 */
void host_tune_bdi(dev_t dev)
{
	static const char *const knobs[][2] = { { "max_ratio", "100" }, { "strict_limit", "0" } };
	char path[128];
	size_t i;

	for (i = 0; i < 2; i++) {
		int fd;

		snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/%s", major(dev), minor(dev),
			 knobs[i][0]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, knobs[i][1], strlen(knobs[i][1])) < 0)
			log_debug("cannot set %s: %m", path);
		if (fd >= 0)
			close(fd);
	}
}

/*
 * The fuse module offers io_uring to a new connection only while its
 * enable_uring parameter is Y (read at mount time, for the INIT request).
 * The switch only lets FUSE servers that ask for io_uring have it; root
 * turns it on, and leaves it on (another mount may be using it).
 */
bool host_enable_fuse_uring(void)
{
	static const char knob[] = "/sys/module/fuse/parameters/enable_uring";
	bool on = false;
	char v = 0;
	int fd = open(knob, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		log_debug("%s: %m", knob);
		return false;
	}
	if (read(fd, &v, 1) == 1) {
		on = v == 'Y';
		if (!on && pwrite(fd, "Y", 1, 0) == 1)
			on = true;
		else if (!on)
			log_debug("cannot turn on %s: %m", knob);
	}
	close(fd);
	return on;
}

int host_check_uring(bool root)
{
	int r;

	if (!root) {
		fprintf(stderr, "regionfs: uring=on needs root (CAP_SYS_ADMIN); use uring=auto\n");
		return -EPERM;
	}
	if (!host_enable_fuse_uring()) {
		fprintf(stderr, "regionfs: uring=on: the kernel has no FUSE over io_uring (needs 6.14+ "
				"with CONFIG_FUSE_IO_URING and the fuse module's enable_uring=Y)\n");
		return -EOPNOTSUPP;
	}
	r = uring_probe();
	if (r < 0)
		fprintf(stderr, "regionfs: uring=on: io_uring is not available to the daemon: %s\n",
			strerror(-r));
	return r;
}

/*
 * The protocol is one datagram of text, so a few lines here rather than a
 * dependency on libsystemd for sd_notify().
 */
void host_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path)) {
		log_debug("NOTIFY_SOCKET too long: not notifying %s", state);
		return;
	}
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: the name's bytes, no NUL after */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
			     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		log_debug("cannot notify %s to %s: %m", state, path);
	if (fd >= 0)
		close(fd);
}
