/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's life, top-down: rfs_run() is
 *
 *   setup()     the host (privileges, limits: host.c), the mount point, the
 *               store, the registry and, with store=DIR, its contents (and
 *               the lifetimes that ended meanwhile: reaper.h);
 *               nothing is mounted yet, so a refusal leaves no trace;
 *   mount_fs()  the FUSE session and the mount, with the device hooks
 *               (devio.c) as root;
 *   start()     signal handlers, the fork to the background, then the
 *               threads: notifier, lifetimes (reaper.c), holders (holders.c), io_uring rings
 *               (uring.c);
 *   serve()     libfuse's loop, until unmounted or signalled; READY=1 to
 *               the service manager (systemd Type=notify) just before;
 *   teardown()  releases whatever the steps before built, once, in reverse
 *               order, whichever step failed (STOPPING=1 first).
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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/holders.h"
#include "fs/host.h"
#include "fs/reaper.h"
#include "registry/lifetime.h"

#define FSNAME "regionfs"
#define SUBTYPE "regionfs"

/*
 * Ring threads per CPU queue: one serves while another may sit in a slow
 * request (fsync of a bound file, fallocate of a large region).
 */
#define URING_THREADS_PER_CPU 2

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
static int find_mount_dev(const struct rfs_options *o, const char *mnt, dev_t *ret)
{
	const char *subtype = o->subtype ? o->subtype : SUBTYPE;
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
		if (!sep || strncmp(sep + 3, "fuse.", 5) != 0 ||
		    strncmp(sep + 8, subtype, strlen(subtype)) != 0 || sep[8 + strlen(subtype)] != ' ')
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

/* Mount with our own device fd. Returns the fd, or -errno. */
static int mount_direct(const struct rfs_options *o, const char *mnt)
{
	char data[256], type[64];
	unsigned long flags = MS_NOSUID | MS_NODEV | (o->noexec ? MS_NOEXEC : 0) |
			      (o->ro ? MS_RDONLY : 0);
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		fprintf(stderr, "regionfs: cannot open /dev/fuse: %s\n", strerror(e));
		return -e;
	}
	snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=%u,group_id=%u%s%s", fd,
		 (unsigned)getuid(), (unsigned)getgid(), o->allow_other ? ",allow_other" : "",
		 o->default_permissions ? ",default_permissions" : "");
	snprintf(type, sizeof(type), "fuse.%s", o->subtype ? o->subtype : SUBTYPE);
	if (mount(o->source ? o->source : FSNAME, mnt, type, flags, data) < 0) {
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
		if (errno == ENOTCONN) /* a FUSE mount whose daemon is gone */
			fprintf(stderr, "regionfs: mountpoint %s: %s: a daemon that died left it "
					"mounted; unmount it first: umount -l %s (or fusermount3 -u -z %s)\n",
				mnt, strerror(errno), mnt, mnt);
		else
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
	snprintf(mopts, sizeof(mopts), "fsname=%s,subtype=%s%s%s%s%s",
		 o->source ? o->source : FSNAME, o->subtype ? o->subtype : SUBTYPE,
		 o->allow_other ? ",allow_other" : "",
		 o->default_permissions ? ",default_permissions" : "", o->noexec ? ",noexec" : "",
		 o->ro ? ",ro" : "");
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

/*
 * What rfs_run() has built so far: teardown() releases exactly that. The
 * pointers in fs are NULL until their step made them; the flags below
 * track what has no pointer of its own.
 */
struct daemon {
	struct rfs fs; /* what the requests share (rfs.h) */
	bool root;    /* CAP_SYS_ADMIN: our own /dev/fuse fd (host_is_root()) */
	bool mounted; /* ours is mounted on fs.mnt (or was: umount by others) */
	bool signals; /* libfuse's signal handlers are installed */
	bool ready;   /* READY=1 was sent to the service manager (host_notify()) */
};

/* Makes fs.store and fs.reg (loaded from store=DIR); sets root, fs.mnt, fs.store_dir. */
static int setup(struct daemon *d)
{
	struct rfs *fs = &d->fs;
	const struct rfs_options *o = fs->opts;
	struct registry_config rc = {
		.max_inodes = o->nr_inodes,
		.root_mode = o->mode,
		.root_uid = o->uid,
		.root_gid = o->gid,
		.cookie_release = rfs_cookie_release,
		.cookie_ctx = fs,
		.open_binding = rfs_open_binding,
		.open_binding_ctx = fs,
	};
	unsigned store_flags = 0;
	int r;

	d->root = host_is_root();
	if (o->datapath == RFS_DATAPATH_PASSTHROUGH && !d->root) {
		fprintf(stderr, "regionfs: datapath=passthrough needs root (CAP_SYS_ADMIN); "
				"use datapath=cache or auto\n");
		return -EPERM;
	}
	if (o->uring == RFS_URING_ON && (r = host_check_uring(d->root)) < 0)
		return r;
	if (check_mountpoint(o->mountpoint) < 0)
		return -ENOTDIR;
	r = host_set_limits();
	if (r < 0)
		return r;
	if (!realpath(o->mountpoint, fs->mnt)) {
		r = -errno;
		fprintf(stderr, "regionfs: mountpoint %s: %s\n", o->mountpoint, strerror(-r));
		return r;
	}
	/* With store=DIR, region data lives in DIR's files: count reservations ourselves. */
	if ((o->datapath == RFS_DATAPATH_CACHE && !d->root) || o->store)
		store_flags |= STORE_FORCE_MEMFD;
	if (o->store && resolve_store(o->store, fs->mnt, fs->store_dir) < 0)
		return -EINVAL;
	if (o->huge != RFS_HUGE_NEVER) {
		/* Only the private tmpfs has huge=: memfds and store=DIR's files do not. */
		if (o->store || !d->root) {
			fprintf(stderr, "regionfs: huge= needs region memory in the private tmpfs: %s\n",
				o->store ? "not with store=DIR, whose files hold it"
					 : "only root (CAP_SYS_ADMIN) can mount that tmpfs");
			return -EINVAL;
		}
		store_flags |= o->huge == RFS_HUGE_ALWAYS	 ? STORE_HUGE_ALWAYS
			       : o->huge == RFS_HUGE_WITHIN_SIZE ? STORE_HUGE_WITHIN_SIZE
								 : STORE_HUGE_ADVISE;
	}
	r = store_open(o->size, store_flags, &fs->store);
	if (r < 0) {
		fprintf(stderr, "regionfs: cannot create the region store: %s\n", strerror(-r));
		return r;
	}
	r = registry_new(fs->store, &rc, &fs->reg);
	if (r < 0) {
		fprintf(stderr, "regionfs: cannot create the registry: %s\n", strerror(-r));
		return r;
	}
	registry_set_root_lifetime(fs->reg, (enum registry_lifetime)o->lifetime);
	r = reaper_new(fs, &fs->reaper);
	if (r < 0) {
		fprintf(stderr, "regionfs: cannot set up lifetimes: %s\n", strerror(-r));
		return r;
	}
	if (o->store) {
		char err[PATH_MAX + 256];

		/* Before mounting: a store we cannot use leaves nothing mounted. */
		r = registry_load(fs->reg, fs->store_dir, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "regionfs: %s\n", err);
			return r;
		}
		/* Lifetimes that ended while nobody served the store (reaper.h). */
		r = reaper_sweep(fs->reaper);
		if (r < 0) {
			fprintf(stderr, "regionfs: store %s: removing expired regions: %s\n",
				fs->store_dir, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* As root: our own device fd, and the hooks on it. */
static int mount_root(struct daemon *d)
{
	struct rfs *fs = &d->fs;
	int fd, r;

	if (fs->opts->uring == RFS_URING_AUTO)
		host_enable_fuse_uring();
	fd = mount_direct(fs->opts, fs->mnt);
	if (fd < 0)
		return fd;
	d->mounted = true;
	/* On success the session owns fd (fuse_session_fd()). */
	r = devio_attach(fs->se, fd, &fs->hooks);
	if (r < 0) {
		fprintf(stderr, "regionfs: cannot attach to /dev/fuse: %s\n", strerror(-r));
		close(fd);
		return r;
	}
	if (find_mount_dev(fs->opts, fs->mnt, &fs->dev) == 0)
		host_tune_bdi(fs->dev);
	return 0;
}

/* Does /etc/fuse.conf have a user_allow_other line (fusermount3's test)? */
static bool fuse_conf_allows_other(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/etc/fuse.conf", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");

		found = strncmp(p, "user_allow_other", 16) == 0 && strchr(" \t\n", p[16]);
	}
	fclose(f);
	return found;
}

/*
 * Without CAP_SYS_ADMIN, fusermount3 mounts for us: say first, in one line,
 * what it would refuse for, rather than a generic failure after its own line.
 * Returns -errno after printing the reason.
 */
static int check_user_mount(const struct rfs_options *o)
{
	struct stat st;

	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		int e = errno;

		if (stat("/dev/fuse", &st) == 0)
			fprintf(stderr, "regionfs: cannot use /dev/fuse (mode %04o, owner %u:%u): "
					"%s; a user needs read and write access to it to mount "
					"(or run as root)\n",
				(unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
				(unsigned)st.st_gid, strerror(e));
		else
			fprintf(stderr, "regionfs: cannot use /dev/fuse: %s (is the fuse module "
					"loaded?)\n", strerror(e));
		return -e;
	}
	/* fusermount3 lets real root use allow_other whatever the file says. */
	if (o->allow_other && getuid() != 0 && !fuse_conf_allows_other()) {
		fprintf(stderr, "regionfs: allow_other needs a line user_allow_other in "
				"/etc/fuse.conf for users other than root (fusermount3 refuses it)\n");
		return -EPERM;
	}
	return 0;
}

/* Makes fs.se, the mount (mounted), and as root fs.hooks.io; sets fs.dev. */
static int mount_fs(struct daemon *d)
{
	struct rfs *fs = &d->fs;
	int r;

	fs->se = new_session(fs->opts, fs, d->root);
	if (!fs->se) {
		fprintf(stderr, "regionfs: cannot create the FUSE session\n");
		return -ENOMEM;
	}
	if (d->root)
		return mount_root(d);
	r = check_user_mount(fs->opts);
	if (r < 0)
		return r;
	if (fuse_session_mount(fs->se, fs->mnt) < 0) {
		/* libfuse or fusermount3 printed the reason just before. */
		fprintf(stderr, "regionfs: cannot mount on %s: fusermount3 failed (reason above)\n",
			fs->mnt);
		return -EIO;
	}
	d->mounted = true;
	find_mount_dev(fs->opts, fs->mnt, &fs->dev);
	return 0;
}

/* Installs the signal handlers (signals), forks away, makes fs.notifier, fs.holders, fs.uring. */
static int start(struct daemon *d)
{
	struct rfs *fs = &d->fs;
	const struct rfs_options *o = fs->opts;
	int r;

	if (fuse_set_signal_handlers(fs->se) < 0)
		return -EIO;
	d->signals = true;
	if (!o->foreground) {
		rfs_log_to_syslog();
		if (fuse_daemonize(0) < 0)
			return -EIO;
	}
	/* After fuse_daemonize(): threads do not survive its fork. */
	r = notifier_start(fs->se, &fs->notifier);
	if (r < 0) {
		log_err("cannot start the notifier thread: %s", strerror(-r));
		return r;
	}
	r = reaper_start(fs->reaper);
	if (r < 0) {
		log_err("cannot start the lifetime thread: %s", strerror(-r));
		return r;
	}
	r = holders_start(fs, &fs->holders);
	if (r < 0) {
		log_err("cannot start the holders thread: %s", strerror(-r));
		return r;
	}
	/* Before serving: the INIT reply offers io_uring only if the rings exist. */
	if (fs->hooks.io && o->uring != RFS_URING_OFF) {
		r = uring_new(fs->se, fuse_session_fd(fs->se), URING_THREADS_PER_CPU, &fs->uring);
		if (r < 0 && o->uring == RFS_URING_ON)
			log_err("cannot set up io_uring: %s", strerror(-r));
		else if (r < 0)
			log_debug("no io_uring (%s): requests on /dev/fuse", strerror(-r));
		devio_set_uring(fs->hooks.io, fs->uring);
	}
	return 0;
}

/* Until unmounted or signalled. The exit status: 0, or 1 if anything failed. */
static int serve(struct daemon *d)
{
	struct rfs *fs = &d->fs;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int r;

	if (!cfg)
		return 1;
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
	fuse_loop_cfg_set_max_threads(cfg, fs->opts->max_threads);
	fuse_loop_cfg_set_idle_threads(cfg, fs->opts->max_threads);
	r = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	/* libfuse returns the number of the signal that stopped it (> 0):
	 * SIGTERM/SIGINT/SIGHUP are an orderly stop, like umount. */
	return r >= 0 && !fs->init_failed && !uring_failed(fs->uring) ? 0 : 1;
}

static void unmount_fs(struct daemon *d)
{
	struct rfs *fs = &d->fs;
	dev_t now_dev;

	if (!d->root) {
		fuse_session_unmount(fs->se);
		return;
	}
	/* Still ours (stopped by a signal, not by umount)? Detach it. */
	if (!fs->dev || (find_mount_dev(fs->opts, fs->mnt, &now_dev) == 0 && now_dev == fs->dev))
		umount2(fs->mnt, MNT_DETACH);
}

/*
 * Release what exists, in the reverse order of building it; whatever was
 * released is marked so, so a second call does nothing.
 */
static void teardown(struct daemon *d)
{
	struct rfs *fs = &d->fs;

	if (d->ready) {
		host_notify("STOPPING=1");
		d->ready = false;
	}
	/* Before the rings go: it answers its queued requests, some through them. */
	holders_stop(fs->holders);
	uring_free(fs->uring);
	fs->uring = NULL;
	/* Before the notifier: it queues invalidations there. */
	reaper_free(fs->reaper);
	fs->reaper = NULL;
	holders_free(fs->holders);
	fs->holders = NULL;
	notifier_stop(fs->notifier);
	fs->notifier = NULL;
	if (d->signals) {
		fuse_remove_signal_handlers(fs->se);
		d->signals = false;
	}
	if (d->mounted) {
		unmount_fs(d);
		d->mounted = false;
	}
	/* Regions first: freeing them releases backing ids on the device fd. */
	registry_free(fs->reg);
	fs->reg = NULL;
	if (fs->se) {
		fuse_session_destroy(fs->se);
		fs->se = NULL;
	}
	devio_free(fs->hooks.io);
	fs->hooks.io = NULL;
	store_close(fs->store);
	fs->store = NULL;
}

int rfs_run(const struct rfs_options *o)
{
	struct daemon d = { .fs = { .opts = o, .timeout = 86400.0 } };
	int status = 1;

	fuse_set_log_func(fuse_log_to_rfs);
	if (setup(&d) == 0 && mount_fs(&d) == 0 && start(&d) == 0) {
		/* Mounted, threads up: what fuse_daemonize() tells its parent. */
		host_notify("READY=1");
		d.ready = true;
		status = serve(&d);
	}
	teardown(&d);
	return status;
}
