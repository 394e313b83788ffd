// SPDX-License-Identifier: GPL-2.0-or-later
/* Who holds a region, from /proc: see holders.h. */
#include "fs/holders.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/thread.h"
#include "common/log.h"
#include "fs/rfs.h"
#include "fs/uring.h"
#include "region/region.h"
#include "registry/registry.h"

/* A region looked for: on the mount, and its backing file; totals of a pass. */
struct target {
	uint64_t ino;
	dev_t bdev;
	ino_t bino;
	unsigned nproc, nopen, nmapped;
	size_t hit;	 /* this process's hit, when hit_proc is the process's */
	size_t hit_proc; /* index + 1 of the process hit was made for */
};

/* (dev, ino) of a file that is a target: sorted, for bsearch. */
struct key {
	dev_t dev;
	ino_t ino;
	size_t t;
};

/* One process holding one target. Appended in ascending pid order. */
struct hit {
	size_t proc;
	size_t t;
	unsigned nopen, nmapped;
};

/* A process with at least one hit. */
struct proc {
	pid_t pid;
	long uid; /* effective, -1 unknown */
	char comm[16];
};

/* The mount ids of the daemon's device in one mount namespace. */
struct ns_mounts {
	ino_t ns;
	uint64_t *ids;
	size_t n;
};

/*
 * One /proc pass for any number of regions: scan_add() them, scan_pass(),
 * read the hits and the targets' totals, scan_free(). Reusable by any
 * question of the form "who holds these regions".
 */
struct scan {
	dev_t dev; /* the mount's */
	struct target *t;
	size_t nt, cap_t;
	struct key *keys;
	size_t nkeys;
	struct hit *hits;
	size_t nhits, cap_hits;
	struct proc *procs;
	size_t nprocs, cap_procs;
	struct ns_mounts *nss;
	size_t nns;
	int err; /* -ENOMEM met during the pass */
};

/* Grow *array (of size elements) to hold n + 1; false when out of memory. */
static bool grow(void *array, size_t *cap, size_t n, size_t size)
{
	void **a = array, *grown;
	size_t c;

	if (n < *cap)
		return true;
	c = *cap ? *cap * 2 : 16;
	grown = realloc(*a, c * size);
	if (!grown)
		return false;
	*a = grown;
	*cap = c;
	return true;
}

static void scan_init(struct scan *s, const struct rfs *fs)
{
	*s = (struct scan){ .dev = fs->dev };
}

static void scan_free(struct scan *s)
{
	for (size_t i = 0; i < s->nns; i++)
		free(s->nss[i].ids);
	free(s->nss);
	free(s->t);
	free(s->keys);
	free(s->hits);
	free(s->procs);
}

/*
 * Add region ino (its backing file from an fstat) as a target, once: its
 * index into *ret_t. The kernel must hold a reference to ino, or the caller
 * a lookup reference (registry_region()). Errors: -ENOENT, -EISDIR (a
 * directory), -ENOMEM, of region_fd_get() and fstat().
 */
static int scan_add(struct scan *s, struct rfs *fs, uint64_t ino, size_t *ret_t)
{
	struct region *region;
	struct stat st;
	int r, fd;

	for (size_t i = 0; i < s->nt; i++) {
		if (s->t[i].ino == ino) {
			*ret_t = i;
			return 0;
		}
	}
	r = registry_region(fs->reg, ino, &region);
	if (r < 0)
		return r;
	fd = region_fd_get(region);
	if (fd < 0)
		return fd;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	region_fd_put(region);
	if (r < 0)
		return r;
	if (!grow(&s->t, &s->cap_t, s->nt, sizeof(*s->t)))
		return -ENOMEM;
	s->t[s->nt] = (struct target){ .ino = ino, .bdev = st.st_dev, .bino = st.st_ino };
	*ret_t = s->nt++;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

/* The target whose file (on the mount, or backing) is dev:ino; SIZE_MAX if none. */
static size_t key_find(const struct scan *s, dev_t dev, ino_t ino)
{
	struct key k = { .dev = dev, .ino = ino }, *found;

	found = bsearch(&k, s->keys, s->nkeys, sizeof(k), key_cmp);
	return found ? found->t : SIZE_MAX;
}

/* The hit of target t for process proc, made when new; NULL out of memory. */
static struct hit *hit_of(struct scan *s, size_t proc, size_t t)
{
	struct target *tg = &s->t[t];

	if (tg->hit_proc == proc + 1)
		return &s->hits[tg->hit];
	if (!grow(&s->hits, &s->cap_hits, s->nhits, sizeof(*s->hits))) {
		s->err = -ENOMEM;
		return NULL;
	}
	s->hits[s->nhits] = (struct hit){ .proc = proc, .t = t };
	tg->hit = s->nhits++;
	tg->hit_proc = proc + 1;
	return &s->hits[tg->hit];
}

/* The comm file at path in dirfd (a process's /proc directory, or AT_FDCWD), made printable. */
static void comm_at(int dirfd, const char *path, char ret[16])
{
	ssize_t len = -1;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, ret, 15);
		close(fd);
	}
	if (len > 0 && ret[len - 1] == '\n')
		len--;
	if (len <= 0) {
		strcpy(ret, "?");
		return;
	}
	ret[len] = '\0';
	/* A user names their process: one printable line, whatever they chose. */
	rfs_ascii_printable(ret);
}

/* The mount ids of dev in the mount namespace of the process at piddir. */
static struct ns_mounts *ns_mounts(struct scan *s, int piddir)
{
	struct ns_mounts *m, *grown;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int fd;

	if (fstatat(piddir, "ns/mnt", &st, 0) < 0)
		return NULL;
	for (size_t i = 0; i < s->nns; i++)
		if (s->nss[i].ns == st.st_ino)
			return &s->nss[i];
	grown = realloc(s->nss, (s->nns + 1) * sizeof(*s->nss));
	if (!grown)
		return NULL;
	s->nss = grown;
	m = &s->nss[s->nns++];
	*m = (struct ns_mounts){ .ns = st.st_ino };
	fd = openat(piddir, "mountinfo", O_RDONLY | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return m;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long long id;
		unsigned maj, min;
		uint64_t *ids;

		if (sscanf(line, "%llu %*u %u:%u", &id, &maj, &min) != 3 ||
		    makedev(maj, min) != s->dev)
			continue;
		ids = realloc(m->ids, (m->n + 1) * sizeof(*m->ids));
		if (!ids)
			break;
		m->ids = ids;
		m->ids[m->n++] = id;
	}
	free(line);
	fclose(f);
	return m;
}

/* The target fd (name, in the process at piddir) refers to through the mount; SIZE_MAX if none. */
static size_t fd_target(struct scan *s, int piddir, int fddir, const char *name)
{
	char link[8], info[512], path[sizeof("fdinfo/") + NAME_MAX];
	unsigned long long mnt_id = 0, ino = 0;
	struct ns_mounts *m;
	ssize_t len;
	size_t t;
	int fd;

	/* Sockets, pipes, anon inodes: not files of any mount. */
	len = readlinkat(fddir, name, link, sizeof(link));
	if (len <= 0 || link[0] != '/')
		return SIZE_MAX;
	snprintf(path, sizeof(path), "fdinfo/%s", name);
	fd = openat(piddir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SIZE_MAX;
	len = read(fd, info, sizeof(info) - 1);
	close(fd);
	if (len <= 0)
		return SIZE_MAX;
	info[len] = '\0';
	for (char *l = info; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		sscanf(l, "mnt_id: %llu", &mnt_id);
		sscanf(l, "ino: %llu", &ino);
	}
	t = key_find(s, s->dev, (ino_t)ino);
	if (t == SIZE_MAX)
		return SIZE_MAX;
	m = ns_mounts(s, piddir);
	for (size_t i = 0; m && i < m->n; i++)
		if (m->ids[i] == mnt_id)
			return t;
	return SIZE_MAX;
}

/* Count the fds of the process at piddir (index proc) open on targets. */
static void scan_open(struct scan *s, int piddir, size_t proc)
{
	struct dirent *e;
	struct hit *h;
	DIR *d;
	int fd = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		size_t t = e->d_name[0] != '.' ? fd_target(s, piddir, dirfd(d), e->d_name) : SIZE_MAX;

		if (t != SIZE_MAX && (h = hit_of(s, proc, t)))
			h->nopen++;
	}
	closedir(d);
}

/* Count the mappings (VMAs) of the process at piddir (index proc) of targets. */
static void scan_maps(struct scan *s, int piddir, size_t proc)
{
	char *line = NULL;
	size_t cap = 0;
	struct hit *h;
	FILE *f;
	int fd = openat(piddir, "maps", O_RDONLY | O_CLOEXEC);

	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long long ino;
		unsigned maj, min;
		size_t t;

		/* start-end perms offset maj:min inode path */
		if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &min, &ino) != 3 || ino == 0)
			continue;
		/* The mount's inode (cache data path) or the backing file (passthrough). */
		t = key_find(s, makedev(maj, min), (ino_t)ino);
		if (t != SIZE_MAX && (h = hit_of(s, proc, t)))
			h->nmapped++;
	}
	free(line);
	fclose(f);
}

/* The effective uid from the status of the process at piddir; -1 if unknown. */
static long status_euid(int piddir)
{
	char buf[2048], *l;
	long uid = -1;
	ssize_t len;
	int fd = openat(piddir, "status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	l = strstr(buf, "\nUid:");
	if (l && sscanf(l, "\nUid: %*u %ld", &uid) != 1)
		uid = -1;
	return uid;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Every pid in /proc but ours, ascending, into *ret (malloc'd). */
static int list_pids(pid_t **ret, size_t *ret_n)
{
	pid_t *pids = NULL, *grown, self = getpid();
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0 || pid == self)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(pids, cap * sizeof(*pids));
			if (!grown) {
				free(pids);
				closedir(d);
				return -ENOMEM;
			}
			pids = grown;
		}
		pids[n++] = (pid_t)pid;
	}
	closedir(d);
	qsort(pids, n, sizeof(*pids), pid_cmp);
	*ret = pids;
	*ret_n = n;
	return 0;
}

/* Index the targets' files (the mount's inode and the backing file) for key_find(). */
static int scan_keys(struct scan *s)
{
	s->keys = malloc(2 * s->nt * sizeof(*s->keys) + 1);
	if (!s->keys)
		return -ENOMEM;
	for (size_t i = 0; i < s->nt; i++) {
		s->keys[s->nkeys++] = (struct key){ .dev = s->dev, .ino = (ino_t)s->t[i].ino, .t = i };
		s->keys[s->nkeys++] = (struct key){ .dev = s->t[i].bdev, .ino = s->t[i].bino, .t = i };
	}
	qsort(s->keys, s->nkeys, sizeof(*s->keys), key_cmp);
	return 0;
}

/*
 * One pass over /proc for every target added: the hits (ascending pid),
 * the processes that have any, and each target's totals. Every process is
 * opened once, whatever the number of targets. Errors: -ENOMEM, errors of
 * opening /proc.
 */
static int scan_pass(struct scan *s)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int r = scan_keys(s);

	if (r == 0)
		r = list_pids(&pids, &n);
	for (size_t i = 0; r == 0 && i < n && !s->err; i++) {
		size_t proc = s->nprocs, first = s->nhits;
		char path[32];
		int piddir;

		snprintf(path, sizeof(path), "/proc/%ld", (long)pids[i]);
		piddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (piddir < 0)
			continue; /* gone */
		scan_maps(s, piddir, proc);
		scan_open(s, piddir, proc);
		if (s->nhits > first && grow(&s->procs, &s->cap_procs, proc, sizeof(*s->procs))) {
			struct proc *p = &s->procs[s->nprocs++];

			/* Through piddir: the same process, even if its pid is reused meanwhile. */
			p->pid = pids[i];
			p->uid = status_euid(piddir);
			comm_at(piddir, "comm", p->comm);
			for (size_t h = first; h < s->nhits; h++) {
				struct target *t = &s->t[s->hits[h].t];

				t->nproc++;
				t->nopen += s->hits[h].nopen;
				t->nmapped += s->hits[h].nmapped;
			}
		} else if (s->nhits > first) {
			s->err = -ENOMEM;
		}
		close(piddir);
	}
	free(pids);
	return r < 0 ? r : s->err;
}

/* Output bounded at HOLDERS_MAX, room kept for the "more=N" line. */
struct out {
	char *buf;
	size_t len, more;
};

static void out_line(struct out *o, const char *line, size_t len)
{
	if (o->more || o->len + len > HOLDERS_MAX - 32) {
		o->more++;
		return;
	}
	memcpy(o->buf + o->len, line, len);
	o->len += len;
}

static size_t out_end(struct out *o)
{
	if (o->more)
		o->len += (size_t)snprintf(o->buf + o->len, HOLDERS_MAX - o->len, "more=%zu\n",
					   o->more);
	return o->len;
}

/* The holders of target t, one line per process, ascending pid. */
static size_t format_region(const struct scan *s, size_t t, char *buf)
{
	struct out o = { .buf = buf };

	for (size_t i = 0; s->t[t].nproc && i < s->nhits; i++) {
		const struct hit *h = &s->hits[i];
		const struct proc *p = &s->procs[h->proc];
		char line[128], uid[24] = "?";
		int l;

		if (h->t != t)
			continue;
		if (p->uid >= 0)
			snprintf(uid, sizeof(uid), "%ld", p->uid);
		l = snprintf(line, sizeof(line), "pid=%ld uid=%s comm=%s open=%u mapped=%u\n",
			     (long)p->pid, uid, p->comm, h->nopen, h->nmapped);
		out_line(&o, line, (size_t)l);
	}
	return out_end(&o);
}

/* A region's name in a directory, as the directory view shows it. */
struct dir_ent {
	char *name;
	size_t t;
};

/* One request: a region's holders, or a directory's totals (ents). */
struct hreq {
	fuse_req_t req;
	struct uring_deferred *ring; /* the ring entry it came on, or NULL */
	uid_t uid;		     /* of the caller: each uid gets a share of the queue */
	uint64_t ino;
	size_t size;
	int err;   /* of resolving ino */
	bool dir;  /* a directory: ents */
	size_t t;  /* a region: its target */
	struct dir_ent *ents;
	size_t nents, cap_ents;
};

/* Collects a directory's entries (readdir with lookup references). */
struct collect {
	struct scan *s;
	struct rfs *fs;
	struct hreq *q;
};

static int collect_fill(void *ctx, const char *name, const struct stat *st, uint64_t next_off,
			unsigned flags)
{
	struct collect *c = ctx;
	struct hreq *q = c->q;
	size_t t;
	int r;

	(void)next_off;
	(void)flags;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	/* Accepted: the lookup reference is ours, given back once the target is made. */
	r = S_ISREG(st->st_mode) ? scan_add(c->s, c->fs, st->st_ino, &t) : -EISDIR;
	registry_forget(c->fs->reg, st->st_ino, 1);
	if (r == -ENOENT || r == -EISDIR)
		return 0; /* gone meanwhile, or not a region */
	if (r == 0 && grow(&q->ents, &q->cap_ents, q->nents, sizeof(*q->ents))) {
		q->ents[q->nents].name = strdup(name);
		if (q->ents[q->nents].name) {
			q->ents[q->nents++].t = t;
			return 0;
		}
	}
	q->err = r < 0 ? r : -ENOMEM;
	return 0; /* take the rest too: each accepted entry's reference is given back here */
}

/* Make q's targets: its region, or its directory's regions. */
static void resolve(struct scan *s, struct rfs *fs, struct hreq *q)
{
	struct collect c = { .s = s, .fs = fs, .q = q };
	int r;

	q->err = scan_add(s, fs, q->ino, &q->t);
	if (q->err != -EISDIR)
		return;
	q->dir = true;
	q->err = 0;
	r = registry_readdir(fs->reg, q->ino, 0, true, collect_fill, &c);
	if (r < 0)
		q->err = r;
}

/*
 * A name as the directory view shows it: bytes outside printable ASCII,
 * space, backslash and '=' as \xHH, so that a line splits at spaces and
 * '=' and the name reads back with one rule.
 */
static size_t escape_name(const char *name, char *ret)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p > ' ' && *p < 0x7f && *p != '\\' && *p != '=') {
			ret[n++] = (char)*p;
			continue;
		}
		ret[n++] = '\\';
		ret[n++] = 'x';
		ret[n++] = hex[*p >> 4];
		ret[n++] = hex[*p & 15];
	}
	ret[n] = '\0';
	return n;
}

/* The directory view: one line per region with holders, in directory order. */
static size_t format_dir(const struct scan *s, const struct hreq *q, char *buf)
{
	struct out o = { .buf = buf };

	for (size_t i = 0; i < q->nents; i++) {
		const struct target *t = &s->t[q->ents[i].t];
		char line[sizeof("name= processes= open= mapped=\n") + 4 * NAME_MAX + 3 * 12];
		size_t l;

		if (!t->nproc)
			continue;
		memcpy(line, "name=", 5);
		l = 5 + escape_name(q->ents[i].name, line + 5);
		l += (size_t)snprintf(line + l, sizeof(line) - l, " processes=%u open=%u mapped=%u\n",
				      t->nproc, t->nopen, t->nmapped);
		out_line(&o, line, l);
	}
	return out_end(&o);
}

/* q's value into buf (HOLDERS_MAX bytes): its length, or -errno. */
static ssize_t format(const struct scan *s, const struct hreq *q, char *buf)
{
	if (q->err < 0)
		return q->err;
	return (ssize_t)(q->dir ? format_dir(s, q, buf) : format_region(s, q->t, buf));
}

static void hreq_clear(struct hreq *q)
{
	for (size_t i = 0; i < q->nents; i++)
		free(q->ents[i].name);
	free(q->ents);
	q->ents = NULL;
	q->nents = q->cap_ents = 0;
}

/* Answer n requests with one /proc pass; r: each one's value (length) or -errno. */
static void answer(struct rfs *fs, struct hreq *q, size_t n, char *buf,
		   void (*reply)(struct hreq *q, ssize_t r, const char *buf))
{
	struct scan s;
	bool any = false;
	int r = 0;

	scan_init(&s, fs);
	for (size_t i = 0; i < n; i++) {
		resolve(&s, fs, &q[i]);
		any = any || q[i].err == 0;
	}
	if (any && s.nt)
		r = scan_pass(&s);
	for (size_t i = 0; i < n; i++) {
		ssize_t len = r < 0 && q[i].err == 0 ? r : (buf ? format(&s, &q[i], buf) : -ENOMEM);

		if (len >= 0 && q[i].size && q[i].size < (size_t)len)
			len = -ERANGE;
		reply(&q[i], len, buf);
		hreq_clear(&q[i]);
	}
	scan_free(&s);
}

/*
 * The holders thread. Requests wait in a bounded queue; the thread takes
 * all of them at once and answers them with one /proc pass, so a flood of
 * readers costs one pass per batch, and no request thread ever runs one.
 */
struct holders {
	struct rfs *fs;
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	size_t n;
	struct hreq q[HOLDERS_QUEUE_MAX];
};

/* The reply from the holders thread: into the request's ring entry, if it came on one. */
static void reply_fuse(struct hreq *q, ssize_t r, const char *buf)
{
	uring_adopt(q->ring);
	if (r < 0)
		fuse_reply_err(q->req, (int)-r);
	else if (q->size == 0)
		fuse_reply_xattr(q->req, (size_t)r);
	else
		fuse_reply_buf(q->req, buf, (size_t)r);
	uring_adopt(NULL);
}

static void *holders_main(void *arg)
{
	struct holders *h = arg;
	struct hreq *batch = malloc(sizeof(h->q));
	char *buf = malloc(HOLDERS_MAX);
	size_t n;

	for (;;) {
		pthread_mutex_lock(&h->lock);
		while (!h->n && !h->stop)
			pthread_cond_wait(&h->cond, &h->lock);
		n = h->n;
		if (h->stop || !batch) {
			/* Stopping: answer what waits without a pass. */
			for (size_t i = 0; i < n; i++)
				reply_fuse(&h->q[i], h->stop ? -ENOTCONN : -ENOMEM, NULL);
			h->n = 0;
			if (h->stop) {
				pthread_mutex_unlock(&h->lock);
				break;
			}
			pthread_mutex_unlock(&h->lock);
			continue;
		}
		memcpy(batch, h->q, n * sizeof(*batch));
		h->n = 0;
		pthread_mutex_unlock(&h->lock);
		answer(h->fs, batch, n, buf, reply_fuse);
	}
	free(buf);
	free(batch);
	return NULL;
}

int holders_start(struct rfs *fs, struct holders **ret)
{
	struct holders *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->fs = fs;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	r = rfs_thread_start(&h->tid, holders_main, h);
	if (r < 0) {
		pthread_cond_destroy(&h->cond);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void holders_stop(struct holders *h)
{
	if (!h || h->stop)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->tid, NULL);
}

void holders_free(struct holders *h)
{
	if (!h)
		return;
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int holders_request(struct holders *h, fuse_req_t req, uint64_t ino, size_t size)
{
	uid_t uid = fuse_req_ctx(req)->uid;
	size_t mine = 0;
	int r = 0;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++)
		mine += h->q[i].uid == uid;
	if (h->stop)
		r = -ENOTCONN;
	else if (h->n == HOLDERS_QUEUE_MAX || mine == HOLDERS_QUEUE_PER_UID)
		r = -EAGAIN;
	if (r == 0) {
		/* Under the lock: the holders thread cannot answer before the entry is deferred. */
		h->q[h->n++] = (struct hreq){
			.req = req,
			.ring = uring_defer(),
			.uid = uid,
			.ino = ino,
			.size = size,
		};
		pthread_cond_signal(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}

ssize_t holders_mapped(struct rfs *fs, uint64_t ino, pid_t *ret_pids, size_t max)
{
	size_t t, found = 0;
	struct scan s;
	int r;

	scan_init(&s, fs);
	r = scan_add(&s, fs, ino, &t);
	if (r == 0)
		r = scan_pass(&s);
	for (size_t h = 0; r == 0 && h < s.nhits; h++) {
		if (s.hits[h].t != t || !s.hits[h].nmapped)
			continue;
		if (found < max)
			ret_pids[found] = s.procs[s.hits[h].proc].pid;
		found++;
	}
	scan_free(&s);
	return r < 0 ? r : (ssize_t)found;
}
