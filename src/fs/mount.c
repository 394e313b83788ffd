/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mounting and the daemon's life: build the store and registry, mount,
 * serve, unmount, free.
 *
 * As root we mount with our own /dev/fuse fd (mount(2) with fd=N), because
 * the passthrough ioctls and our device hooks need that fd; without root we
 * go through libfuse's fusermount3 helper and the cached data path.
 */
#include "fs/rfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/caller.h"

#define FSNAME "regionfs"
#define FSTYPE "fuse.regionfs"

/*
 * Ring threads per CPU queue: one serves while another may sit in a slow
 * request (fsync of a bound file, fallocate of a large region).
 */
#define URING_THREADS_PER_CPU 2

/*
 * The store keeps at most a budget of region fds open (RLIMIT_NOFILE less a
 * reserve) and reopens the others on demand; memfd, persistent-store and
 * bound regions keep theirs for good, so for those the open-file limit
 * bounds their number. Lift the soft limit to the hard one, and as root the
 * hard one to fs.nr_open: a larger budget means fewer reopens. Failure only
 * means a smaller budget, down to STORE_NOFILE_MIN: below that, -1 and a
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
		return -1;
	}
	return 0;
}

static bool have_cap_sys_admin(void)
{
	/* Capability bit 21 (CAP_SYS_ADMIN) in the effective set, from /proc. */
	char line[256];
	bool r = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long eff;

		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			r = eff & (1ull << 21);
			break;
		}
	}
	fclose(f);
	return r;
}

/* mountinfo writes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The device number of the FUSE mount at mnt (ours: the newest such entry),
 * read from mountinfo so the daemon never touches its own mount.
 */
static int find_mount_dev(const char *mnt, dev_t *ret)
{
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char path[PATH_MAX + 1], *sep;

		/* id parent maj:min root mountpoint ... - fstype source options */
		if (sscanf(line, "%*u %*u %u:%u %*s %4096s", &maj, &min, path) != 3)
			continue;
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, FSTYPE " ", strlen(FSTYPE) + 1) != 0)
			continue;
		unescape_octal(path);
		if (strcmp(path, mnt) == 0) {
			*ret = makedev(maj, min);
			found = true;
		}
	}
	free(line);
	fclose(f);
	return found ? 0 : -ENOENT;
}

/*
 * Lift the FUSE writeback throttle (1% of dirty memory, strictly enforced)
 * that otherwise caps writes into cached-mode mappings at ~1 GB/s. Only
 * root may; failure just leaves the kernel default (debug log).
 */
static void tune_bdi(dev_t dev)
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
static bool enable_fuse_uring(void)
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

/* uring=on: say why it cannot be had, before anything is mounted. */
static int check_uring_on(bool root)
{
	int r;

	if (!root) {
		fprintf(stderr, "regionfs: uring=on needs root (CAP_SYS_ADMIN); use uring=auto\n");
		return -EPERM;
	}
	if (!enable_fuse_uring()) {
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

/* Mount with our own device fd. Returns the fd, or -errno. */
static int mount_direct(const struct rfs_options *o, const char *mnt)
{
	char data[256];
	unsigned long flags = MS_NOSUID | MS_NODEV | (o->noexec ? MS_NOEXEC : 0);
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		fprintf(stderr, "regionfs: cannot open /dev/fuse: %s\n", strerror(e));
		return -e;
	}
	snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=%u,group_id=%u%s%s", fd,
		 (unsigned)getuid(), (unsigned)getgid(), o->allow_other ? ",allow_other" : "",
		 o->default_permissions ? ",default_permissions" : "");
	if (mount(o->source ? o->source : FSNAME, mnt, FSTYPE, flags, data) < 0) {
		int e = errno;

		fprintf(stderr, "regionfs: cannot mount on %s: %s\n", mnt, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int check_mountpoint(const char *mnt)
{
	struct stat st;

	if (stat(mnt, &st) < 0) {
		fprintf(stderr, "regionfs: mountpoint %s: %s\n", mnt, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "regionfs: mountpoint %s: not a directory\n", mnt);
		return -1;
	}
	return 0;
}

/* Is path the directory dir or inside it? Both resolved (realpath). */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1) /* "/" */
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * Resolve store= into fs->store_dir. The store is trusted (bindings in it
 * are opened by the daemon): refuse a symlink, whose target whoever owns
 * the link's directory may change, and a store inside the mount or
 * around it (the daemon must never reach its own mount, DESIGN.md).
 * persist_open() checks DIR's owner and mode.
 */
static int resolve_store(const char *store, const char *mnt, char *ret_dir)
{
	struct stat st;

	if (lstat(store, &st) == 0 && S_ISLNK(st.st_mode)) {
		fprintf(stderr, "regionfs: store %s is a symbolic link: give the directory itself\n",
			store);
		return -1;
	}
	if (!realpath(store, ret_dir)) {
		fprintf(stderr, "regionfs: store %s: %s\n", store, strerror(errno));
		return -1;
	}
	if (path_within(ret_dir, mnt) || path_within(mnt, ret_dir)) {
		fprintf(stderr, "regionfs: store %s and mount point %s: one is inside the other\n",
			ret_dir, mnt);
		return -1;
	}
	return 0;
}

/* libfuse's own lines (and with -d, every request) go where ours go. */
static void fuse_log_to_rfs(enum fuse_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void fuse_log_to_rfs(enum fuse_log_level level, const char *fmt, va_list ap)
{
	_Static_assert((int)FUSE_LOG_ERR == (int)RFS_LOG_ERR &&
			       (int)FUSE_LOG_WARNING == (int)RFS_LOG_WARNING &&
			       (int)FUSE_LOG_NOTICE == (int)RFS_LOG_NOTICE &&
			       (int)FUSE_LOG_INFO == (int)RFS_LOG_INFO &&
			       (int)FUSE_LOG_DEBUG == (int)RFS_LOG_DEBUG,
		       "both are syslog priorities");
	rfs_log_line(level < FUSE_LOG_ERR ? RFS_LOG_ERR : (enum rfs_log_level)level, fmt, ap);
}

static struct fuse_session *new_session(const struct rfs_options *o, struct rfs *fs, bool direct)
{
	char mopts[256];
	char *argv[5] = { (char *)"regionfs" };
	struct fuse_session *se;
	struct fuse_args args;
	int argc = 1;

	/* fusermount3 takes the mount options from the session arguments. */
	snprintf(mopts, sizeof(mopts), "fsname=%s,subtype=regionfs%s%s%s",
		 o->source ? o->source : FSNAME, o->allow_other ? ",allow_other" : "",
		 o->default_permissions ? ",default_permissions" : "", o->noexec ? ",noexec" : "");
	if (!direct) {
		argv[argc++] = (char *)"-o";
		argv[argc++] = mopts;
	}
	if (o->debug)
		argv[argc++] = (char *)"-d"; /* libfuse logs every request */
	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	se = fuse_session_new(&args, &rfs_ops, sizeof(rfs_ops), &fs->hooks);
	fuse_opt_free_args(&args); /* option parsing may have copied them */
	return se;
}

static int serve(struct rfs *fs, const struct rfs_options *o)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int r;

	if (!cfg)
		return -ENOMEM;
	/*
	 * Few threads, and none retired when idle. The kernel hands each
	 * request to the thread that has waited longest, so every extra
	 * thread is one more cold wake-up, often on another CPU: measured
	 * here, a round trip costs ~13 us with 2 threads and 30-45 us with
	 * libfuse's default 10+ (and creating/retiring idle threads costs
	 * more). One per CPU still lets slow requests (fallocate of a large
	 * region) overlap with the rest.
	 */
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	fuse_loop_cfg_set_max_threads(cfg, o->max_threads);
	fuse_loop_cfg_set_idle_threads(cfg, o->max_threads);
	r = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

int rfs_run(const struct rfs_options *o)
{
	struct rfs fs = { .opts = o, .timeout = 86400.0 };
	struct registry_config rc = {
		.max_inodes = o->nr_inodes,
		.root_mode = o->mode,
		.root_uid = o->uid,
		.root_gid = o->gid,
		.cookie_release = rfs_cookie_release,
		.cookie_ctx = &fs,
		.open_binding = rfs_open_binding,
		.open_binding_ctx = &fs,
	};
	bool root = have_cap_sys_admin();
	const char *mnt = fs.mnt;
	unsigned store_flags = 0;
	int status = 1, fd = -1, r;
	dev_t dev = 0;

	fuse_set_log_func(fuse_log_to_rfs);
	if (o->datapath == RFS_DATAPATH_PASSTHROUGH && !root) {
		fprintf(stderr, "regionfs: datapath=passthrough needs root (CAP_SYS_ADMIN); "
				"use datapath=cache or auto\n");
		return 1;
	}
	if (o->uring == RFS_URING_ON && check_uring_on(root) < 0)
		return 1;
	if (check_mountpoint(o->mountpoint) < 0)
		return 1;
	if (raise_nofile_limit() < 0)
		return 1;
	/*
	 * The open-file limit was the last use of CAP_SYS_RESOURCE: without
	 * it, no write by the daemon passes a file system's root reserve for
	 * a user (as the binder's fsuid, see region_bind_file()) nor a quota
	 * hard limit. Before any thread exists: capabilities are per thread.
	 */
	r = caller_drop_resource();
	if (r < 0) {
		fprintf(stderr, "regionfs: cannot drop CAP_SYS_RESOURCE: %s\n", strerror(-r));
		return 1;
	}
	if (!realpath(o->mountpoint, fs.mnt)) {
		fprintf(stderr, "regionfs: mountpoint %s: %s\n", o->mountpoint, strerror(errno));
		return 1;
	}
	/* With store=DIR, region data lives in DIR's files: count reservations ourselves. */
	if ((o->datapath == RFS_DATAPATH_CACHE && !root) || o->store)
		store_flags |= STORE_FORCE_MEMFD;
	if (o->store && resolve_store(o->store, fs.mnt, fs.store_dir) < 0)
		return 1;
	r = store_open(o->size, store_flags, &fs.store);
	if (r < 0) {
		fprintf(stderr, "regionfs: cannot create the region store: %s\n", strerror(-r));
		return 1;
	}
	r = registry_new(fs.store, &rc, &fs.reg);
	if (r < 0) {
		fprintf(stderr, "regionfs: cannot create the registry: %s\n", strerror(-r));
		goto out_store;
	}
	if (o->store) {
		char err[PATH_MAX + 256];

		/* Before mounting: a store we cannot use leaves nothing mounted. */
		r = registry_load(fs.reg, fs.store_dir, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "regionfs: %s\n", err);
			goto out_registry;
		}
	}
	fs.se = new_session(o, &fs, root);
	if (!fs.se) {
		fprintf(stderr, "regionfs: cannot create the FUSE session\n");
		goto out_registry;
	}
	if (root) {
		if (o->uring == RFS_URING_AUTO)
			enable_fuse_uring();
		fd = mount_direct(o, mnt);
		if (fd < 0)
			goto out_session;
		r = devio_attach(fs.se, fd, &fs.hooks);
		if (r < 0) {
			fprintf(stderr, "regionfs: cannot attach to /dev/fuse: %s\n", strerror(-r));
			close(fd);
			goto out_unmount;
		}
		if (find_mount_dev(mnt, &dev) == 0)
			tune_bdi(dev);
	} else if (fuse_session_mount(fs.se, mnt) < 0) {
		/* libfuse or fusermount3 printed the reason just before. */
		fprintf(stderr, "regionfs: cannot mount on %s without root (fusermount3 failed)\n",
			mnt);
		goto out_session;
	} else {
		find_mount_dev(mnt, &dev);
	}
	fs.dev = dev;
	if (fuse_set_signal_handlers(fs.se) < 0)
		goto out_unmount;
	if (!o->foreground) {
		rfs_log_to_syslog();
		if (fuse_daemonize(0) < 0)
			goto out_signals;
	}
	/* After fuse_daemonize(): threads do not survive its fork. */
	r = notifier_start(fs.se, &fs.notifier);
	if (r < 0) {
		log_err("cannot start the notifier thread: %s", strerror(-r));
		goto out_signals;
	}

	/* Before serving: the INIT reply offers io_uring only if the rings exist. */
	if (fs.hooks.io && o->uring != RFS_URING_OFF) {
		r = uring_new(fs.se, fd, URING_THREADS_PER_CPU, &fs.uring);
		if (r < 0 && o->uring == RFS_URING_ON)
			log_err("cannot set up io_uring: %s", strerror(-r));
		else if (r < 0)
			log_debug("no io_uring (%s): requests on /dev/fuse", strerror(-r));
		devio_set_uring(fs.hooks.io, fs.uring);
	}

	/* libfuse returns the number of the signal that stopped it (> 0):
	 * SIGTERM/SIGINT/SIGHUP are an orderly stop, like umount. */
	r = serve(&fs, o);
	status = r >= 0 && !fs.init_failed && !uring_failed(fs.uring) ? 0 : 1;
	uring_free(fs.uring);
	fs.uring = NULL;
	notifier_stop(fs.notifier);

out_signals:
	fuse_remove_signal_handlers(fs.se);
out_unmount:
	if (root) {
		dev_t now_dev;

		/* Still ours (stopped by a signal, not by umount)? Detach it. */
		if (dev && find_mount_dev(mnt, &now_dev) == 0 && now_dev == dev)
			umount2(mnt, MNT_DETACH);
		else if (!dev && fd >= 0)
			umount2(mnt, MNT_DETACH);
	} else {
		fuse_session_unmount(fs.se);
	}
out_session:
	/* Regions first: freeing them releases backing ids on the device fd. */
	registry_free(fs.reg);
	fs.reg = NULL;
	fuse_session_destroy(fs.se);
	devio_free(fs.hooks.io);
	store_close(fs.store);
	return status;

out_registry:
	registry_free(fs.reg);
out_store:
	store_close(fs.store);
	return status;
}
