/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the extended attribute calls of the registry, behind
 * the name policy of the FUSE handlers (rfs_xattr_name_check), checked
 * against a model.
 *
 * Each input picks a mode: in memory, or with a persistent store (a fresh
 * store directory under the scratch directory, so every change is also
 * written to the store files and can be reloaded). Four nodes: the root, a
 * directory d, a region d/f, and a region r with a second name d/r2. Then
 * a sequence of setxattr (all flags), getxattr and listxattr (buffer sizes
 * 0, exact, one short, large), removexattr, full comparisons, and in store
 * mode reloads (registry_free + registry_load of the same directory).
 *
 * Invariants: a get after a set returns that value; a failed set or
 * remove changes nothing; list gives exactly the model's names, each once;
 * sizes agree; a short buffer gives -ERANGE and is not written past the
 * value; errnos are the documented ones; a reload brings back exactly what
 * was set; the policy lets through only user.* (writes: not
 * user.regionfs.*). In memory mode a "raw" flag also sends names straight
 * to the registry (empty, long, other namespaces). No leak of memory or fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/rfs.h"
#include "region/region.h"
#include "registry/registry.h"
#include "fuzz_util.h"

#define MAX_OPS 48
#define MAX_ATTRS 64
#define NNODES 4
#define VALUE_MAX XATTR_SIZE_MAX /* the kernel's limit, which the registry keeps */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct attr {
	char *name;
	uint8_t *value;
	size_t len;
};

struct model {
	struct attr a[MAX_ATTRS];
	unsigned n;
};

static struct model models[NNODES];
static uint64_t inos[NNODES];
static struct region_store *store;
static struct registry *reg;
static char store_dir[PATH_MAX];
static bool persistent;
static uint8_t value[VALUE_MAX + 16];
/* RFS_FUZZ_STATS=1: what the runs did, printed at exit. */
static unsigned long stat_set_ok, stat_set_err[160], stat_reloads, stat_big;

static void print_stats(void)
{
	unsigned i;

	fprintf(stderr, "fuzz_xattr: %lu sets succeeded (%lu of 60000 bytes or more), %lu reloads\n",
		stat_set_ok, stat_big, stat_reloads);
	for (i = 0; i < 160; i++)
		if (stat_set_err[i])
			fprintf(stderr, "fuzz_xattr: %lu sets failed with %s\n", stat_set_err[i],
				strerror((int)i));
}

static struct attr *model_find(struct model *m, const char *name)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->a[i].name, name) == 0)
			return &m->a[i];
	return NULL;
}

static void model_set(struct model *m, const char *name, const void *v, size_t len)
{
	struct attr *a = model_find(m, name);

	if (!a) {
		FUZZ_CHECK(m->n < MAX_ATTRS, "model full");
		a = &m->a[m->n++];
		a->name = strdup(name);
		a->value = NULL;
	}
	free(a->value);
	a->value = malloc(len ? len : 1);
	if (!a->name || !a->value)
		abort();
	memcpy(a->value, v, len);
	a->len = len;
}

static void model_remove(struct model *m, const char *name)
{
	struct attr *a = model_find(m, name);

	free(a->name);
	free(a->value);
	*a = m->a[--m->n];
}

static void model_clear(void)
{
	unsigned i, j;

	for (i = 0; i < NNODES; i++) {
		for (j = 0; j < models[i].n; j++) {
			free(models[i].a[j].name);
			free(models[i].a[j].value);
		}
		models[i].n = 0;
	}
}

/* ---------------------------------------------------------------- input */

/*
 * One operation: a fixed-size record from the front of the input; the bytes
 * of names and values come from its end (fuzz_tail_bytes).
 */
struct rec {
	uint8_t op, node, raw, name_sel, name_arg, flags, value_sel, value_arg;
};

static void gen_name(struct fuzz_in *in, const struct rec *rc, char *buf, size_t size)
{
	static const char *const fixed[] = {
		"user.a", "user.b", "user.c", "user.", "user.regionfs.x", "user.regionfs.datapath",
		"trusted.a", "security.a", "system.posix_acl_access", "usera", "", "user.a\xff",
	};
	unsigned sel = rc->name_sel % 8, n, len, i;

	switch (sel) {
	case 0:
	case 1:
	case 2:
	case 3:
		snprintf(buf, size, "%s", fixed[rc->name_arg % 12]);
		return;
	case 4: /* around the 255-byte limit */
		n = 250 + rc->name_arg % 10;
		snprintf(buf, size, "user.");
		memset(buf + 5, 'n', n - 5);
		buf[n] = '\0';
		return;
	default: /* user. and bytes, or bytes alone */
		n = sel == 7 ? 0 : (unsigned)snprintf(buf, size, "user.");
		len = rc->name_arg % 16;
		fuzz_tail_bytes(in, buf + n, len);
		for (i = n; i < n + len; i++)
			if (!buf[i])
				buf[i] = 'z';
		buf[n + len] = '\0';
	}
}

static size_t gen_value(struct fuzz_in *in, const struct rec *rc)
{
	size_t len, i, got;

	switch (rc->value_sel % 8) {
	case 0: /* at the limits: the value alone, and with the name */
		len = VALUE_MAX - 300 + (size_t)rc->value_arg * 310 / 256;
		break;
	case 1:
		len = 0;
		break;
	default:
		len = rc->value_arg % 48;
	}
	got = len <= 48 ? fuzz_tail_bytes(in, value, len) : 0;
	if (got < len)
		memset(value + got, rc->value_arg, len - got);
	for (i = got; i < len && i < got + 64; i++)
		value[i] = (uint8_t)(i * 7); /* a start that differs from other fills */
	return len;
}

/* ---------------------------------------------------------------- checks */

static bool errno_in(long r, const int *set)
{
	for (; *set; set++)
		if (r == -*set)
			return true;
	return false;
}

/* What a set may fail with: the registry's limits and the store's refusals. */
static const int set_errors[] = { EEXIST, ENODATA, ERANGE, E2BIG, ENOSPC, EINVAL, ENOMEM,
				  EDQUOT, EOPNOTSUPP, 0 };
/* A get or remove of a name that is not there. */
static const int absent_errors[] = { ENODATA, ERANGE, EINVAL, 0 };

static void check_get(unsigned node, const char *name, unsigned how)
{
	struct attr *a = model_find(&models[node], name);
	size_t size;
	uint8_t *buf;
	ssize_t r;

	switch (how % 4) {
	case 0:
		size = 0;
		break;
	case 1:
		size = a ? a->len : 8;
		break;
	case 2:
		size = a && a->len ? a->len - 1 : 0;
		break;
	default: /* roomy (the harness's own byte checks are instrumented: keep them few) */
		size = (a ? a->len : 0) + 64;
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memset(buf, 0xa5, size);
	r = registry_getxattr(reg, inos[node], name, size ? buf : NULL, size);
	if (!a) {
		FUZZ_CHECK(errno_in(r, absent_errors), "get '%s' (absent): %zd", name, r);
	} else if (size == 0) {
		FUZZ_CHECK(r == (ssize_t)a->len, "size of '%s': %zd, set %zu", name, r, a->len);
	} else if (size < a->len) {
		FUZZ_CHECK(r == -ERANGE, "get '%s' into %zu bytes of %zu: %zd", name, size, a->len,
			   r);
	} else {
		static uint8_t untouched[64];

		memset(untouched, 0xa5, sizeof(untouched));
		FUZZ_CHECK(r == (ssize_t)a->len && memcmp(buf, a->value, a->len) == 0,
			   "get '%s': %zd, value differs from the %zu bytes set", name, r, a->len);
		FUZZ_CHECK(memcmp(buf + a->len, untouched, size - a->len) == 0,
			   "get '%s' wrote past the value", name);
	}
	free(buf);
}

static void check_list(unsigned node, unsigned how)
{
	struct model *m = &models[node];
	size_t need = 0, size, i;
	bool seen[MAX_ATTRS] = { false };
	char *buf, *p;
	ssize_t r;

	for (i = 0; i < m->n; i++)
		need += strlen(m->a[i].name) + 1;
	size = how % 4 == 0 ? 0 : how % 4 == 1 ? need : how % 4 == 2 ? need - !!need : need + 300;
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	r = registry_listxattr(reg, inos[node], size ? buf : NULL, size);
	if (size == 0 || size >= need)
		FUZZ_CHECK(r == (ssize_t)need, "list of node %u: %zd, model %zu", node, r, need);
	else
		FUZZ_CHECK(r == -ERANGE, "list of %zu into %zu bytes: %zd", need, size, r);
	if (size && r >= 0) {
		for (p = buf; p < buf + r; p += strlen(p) + 1) {
			struct attr *a;

			FUZZ_CHECK(memchr(p, '\0', (size_t)(buf + r - p)), "unterminated name");
			a = model_find(m, p);
			FUZZ_CHECK(a, "listed '%s', never set", p);
			FUZZ_CHECK(!seen[a - m->a], "'%s' listed twice", p);
			seen[a - m->a] = true;
		}
		/* need bytes hold exactly the model's names: none is missing. */
	}
	free(buf);
}

static void check_all(void)
{
	unsigned node, i;

	for (node = 0; node < NNODES; node++) {
		check_list(node, 1);
		for (i = 0; i < models[node].n; i++)
			check_get(node, models[node].a[i].name, 3);
	}
}

/* ---------------------------------------------------------------- setup */

static void open_registry(bool load)
{
	struct registry_config cfg = { .root_mode = 0777 };
	char err[PATH_MAX + 256];
	int r;

	if (store_open(8u << 20, STORE_FORCE_MEMFD, &store) < 0)
		fuzz_fail("store_open");
	if (registry_new(store, &cfg, &reg) < 0)
		fuzz_fail("registry_new");
	if (load) {
		r = registry_load(reg, store_dir, err, sizeof(err));
		FUZZ_CHECK(r == 0, "loading the store just written: %d: %s", r, err);
	}
}

static void close_registry(void)
{
	registry_free(reg);
	store_close(store);
	reg = NULL;
	store = NULL;
}

static uint64_t lookup(uint64_t parent, const char *name)
{
	struct stat st;

	FUZZ_CHECK(registry_lookup(reg, parent, name, &st, NULL) == 0, "lookup %s", name);
	registry_forget(reg, st.st_ino, 1);
	return st.st_ino;
}

static void make_nodes(void)
{
	struct registry_cred cred = { 0, 0 };
	struct stat st;

	inos[0] = REGISTRY_ROOT_INO;
	FUZZ_CHECK(registry_mkdir(reg, inos[0], "d", 0755, &cred, &st) == 0, "mkdir d");
	inos[1] = st.st_ino;
	FUZZ_CHECK(registry_create(reg, inos[1], "f", 0644, &cred, &st) == 0, "create d/f");
	inos[2] = st.st_ino;
	FUZZ_CHECK(registry_create(reg, inos[0], "r", 0600, &cred, &st) == 0, "create r");
	inos[3] = st.st_ino;
	FUZZ_CHECK(registry_link(reg, inos[3], inos[1], "r2", &st, NULL) == 0 && st.st_ino == inos[3],
		   "link d/r2");
}

/* Free, load again, find the nodes by name: what was set must be back. */
static void reload(void)
{
	stat_reloads++;
	close_registry();
	open_registry(true);
	inos[1] = lookup(REGISTRY_ROOT_INO, "d");
	inos[2] = lookup(inos[1], "f");
	inos[3] = lookup(REGISTRY_ROOT_INO, "r");
	FUZZ_CHECK(lookup(inos[1], "r2") == inos[3], "hard link lost in the store");
	check_all();
}

/* ---------------------------------------------------------------- ops */

static void op_set(struct fuzz_in *in, const struct rec *rc, unsigned node, const char *name)
{
	static const int flag_sets[] = { 0, XATTR_CREATE, XATTR_REPLACE, XATTR_CREATE | XATTR_REPLACE };
	int flags = flag_sets[rc->flags % 4];
	size_t len = gen_value(in, rc);
	struct attr *a = model_find(&models[node], name);
	int r;

	r = registry_setxattr(reg, inos[node], name, value, len, flags);
	if (r == 0) {
		size_t nlen = strlen(name);

		FUZZ_CHECK(!(flags & XATTR_CREATE) || !a, "XATTR_CREATE replaced '%s'", name);
		FUZZ_CHECK(!(flags & XATTR_REPLACE) || a, "XATTR_REPLACE created '%s'", name);
		FUZZ_CHECK(nlen >= 1 && nlen <= 255 && len <= VALUE_MAX,
			   "set '%s' (%zu bytes) of %zu bytes accepted", name, nlen, len);
		model_set(&models[node], name, value, len);
		stat_set_ok++;
		stat_big += len >= 60000;
	} else {
		stat_set_err[-r < 160 ? -r : 0]++;
		FUZZ_CHECK(errno_in(r, set_errors), "set '%s' (%zu bytes, flags %d): %d", name, len,
			   flags, r);
		FUZZ_CHECK(!(flags & XATTR_CREATE) || !a || r == -EEXIST || r == -E2BIG,
			   "XATTR_CREATE of existing '%s': %d", name, r);
	}
	/* Set or not, the model and the registry agree now. */
	check_get(node, name, 3);
}

static void op_remove(unsigned node, const char *name)
{
	struct attr *a = model_find(&models[node], name);
	int r = registry_removexattr(reg, inos[node], name);

	if (a) {
		FUZZ_CHECK(r == 0, "remove '%s' (set): %d", name, r);
		model_remove(&models[node], name);
	} else {
		FUZZ_CHECK(errno_in(r, absent_errors), "remove '%s' (absent): %d", name, r);
	}
	check_get(node, name, 0);
}

/* What the FUSE handlers do before calling the registry; false: they stop. */
static bool policy(const char *name, bool writing)
{
	int r = rfs_xattr_name_check(name, writing);
	bool user = strncmp(name, "user.", 5) == 0;
	bool ours = strncmp(name, "user.regionfs.", 14) == 0;

	if (r == 0) {
		FUZZ_CHECK(user && !(writing && ours), "policy let '%s' through (writing %d)", name,
			   writing);
		return true;
	}
	FUZZ_CHECK(r == -EOPNOTSUPP || r == -ENODATA || r == -EPERM || r == -EINVAL ||
			   r == -ERANGE,
		   "policy on '%s': %d", name, r);
	FUZZ_CHECK(user || r == (writing ? -EOPNOTSUPP : -ENODATA),
		   "policy on '%s' (not user.*): %d", name, r);
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned fds_before;
	static char base[PATH_MAX];
	struct fuzz_in in = { data, size };
	uint8_t mode = fuzz_u8(&in);
	unsigned nops;

	if (!base[0]) {
		snprintf(base, sizeof(base), "%s/t", fuzz_scratch_dir("fuzz-xattr"));
		snprintf(store_dir, sizeof(store_dir), "%s/store", base);
		fds_before = fuzz_count_fds();
		if (getenv("RFS_FUZZ_STATS"))
			atexit(print_stats);
	}
	persistent = mode & 1;
	if (persistent && (mkdir(base, 0700) < 0 || mkdir(store_dir, 0700) < 0))
		fuzz_fail("mkdir %s: %s", store_dir, strerror(errno));
	open_registry(persistent);
	make_nodes();

	for (nops = 0; nops < MAX_OPS && in.left >= sizeof(struct rec); nops++) {
		struct rec rc;
		unsigned node;
		bool raw;
		char name[300];

		fuzz_bytes(&in, &rc, sizeof(rc));
		node = rc.node % NNODES;
		raw = !persistent && (mode & 2) && (rc.raw & 1);
		if (rc.op % 8 <= 4)
			gen_name(&in, &rc, name, sizeof(name));
		switch (rc.op % 8) {
		case 0:
		case 1:
			if (raw || policy(name, true))
				op_set(&in, &rc, node, name);
			break;
		case 2:
			/* The root answers user.regionfs.datapath/requests in ops.c itself. */
			if (raw || (policy(name, false) && strncmp(name, "user.regionfs.", 14)))
				check_get(node, name, rc.flags);
			break;
		case 3:
			if (raw || policy(name, true))
				op_remove(node, name);
			break;
		case 4:
			check_list(node, rc.flags);
			break;
		case 5:
			check_all();
			break;
		default:
			if (persistent)
				reload();
			else
				check_all();
		}
	}
	check_all();
	if (persistent)
		reload();
	close_registry();
	model_clear();

	FUZZ_CHECK(fuzz_count_fds() == fds_before, "fds leaked: %u open, %u before",
		   fuzz_count_fds(), fds_before);
	if (persistent)
		FUZZ_CHECK(fuzz_remove_tree(base), "cannot remove %s", base);
	return 0;
}
