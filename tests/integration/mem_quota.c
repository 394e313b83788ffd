/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The size= quota, with regions filled to the last page:
 *  - statfs reports the size and honest free space;
 *  - regionfs: a region larger than the whole size -> EFBIG (ftruncate,
 *    fallocate); growing with ftruncate reserves memory for the whole new
 *    range, so filling the mount that way ends in ENOSPC with the size
 *    unchanged (tmpfs: filled with fallocate); writes past the end:
 *    mem_sparse.c;
 *  - on a full mount: growing -> ENOSPC, write -> ENOSPC (or short);
 *  - touching every page of every filled region through MAP_SHARED never
 *    SIGBUSes, and msync/fsync of the dirty pages succeed (no data lost);
 *  - space returns after shrinking and after unlinking.
 *
 * Usage: mem_quota DIR SIZE_BYTES   (SIZE_BYTES = the mount's size= option)
 */
#include "rfstest.h"

#include <sys/statfs.h>
#include <time.h>

#define MAXREG 64

static long ps;
static bool reserve_by_truncate;

/* Grow fd by len bytes: ftruncate on regionfs (it reserves), fallocate on
 * tmpfs (ftruncate there is sparse). Returns 0 or -errno. (Growth by a
 * write past the end: mem_sparse.c.) */
static int grow(int fd, off_t len)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!reserve_by_truncate)
		r = fallocate(fd, 0, st.st_size, len);
	else
		r = ftruncate(fd, st.st_size + len);
	return r < 0 ? -errno : 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 2, "DIR SIZE_BYTES");
	uint64_t size = strtoull(argv[2], NULL, 0), total = 0;
	static char buf[3 * 65536];
	int fds[MAXREG], nreg = 0, i, fd, r, bad, sig;
	off_t sizes[MAXREG], chunk;
	char path[4096], name[64];
	struct statfs sf;
	struct stat st;
	long long t0;
	ssize_t w;

	ps = t_page();
	reserve_by_truncate = !t_is_tmpfs();
	t_catch_faults();

	CHECK_OK(statfs(dir, &sf), "statfs");
	CHECK_EQ((uint64_t)sf.f_blocks * sf.f_frsize, size, "statfs total = size=");
	CHECK_EQ((uint64_t)sf.f_bfree * sf.f_frsize, size, "statfs free = size= on an empty mount");
	CHECK_EQ(sf.f_bavail, sf.f_bfree, "f_bavail = f_bfree");

	if (!t_is_tmpfs()) {
		fd = CHECK_OK(open(t_path(path, sizeof(path), dir, "too-big"), O_RDWR | O_CREAT, 0600),
			      "create");
		CHECK_ERRNO(ftruncate(fd, size + ps), EFBIG, "ftruncate one page past the whole size");
		CHECK_ERRNO(ftruncate(fd, 1LL << 50), EFBIG, "ftruncate to 1 PiB");
		CHECK_ERRNO(fallocate(fd, 0, 0, size + ps), EFBIG, "fallocate past the whole size");
		CHECK_OK(fstat(fd, &st), "fstat");
		CHECK_EQ(st.st_size, 0, "failed EFBIG grows left the size alone");
		close(fd);
		unlink(path);
	}

	/* fill: quarter-size regions, then halve the chunk until a page */
	chunk = (off_t)(size / 4);
	while (chunk >= ps && nreg < MAXREG) {
		snprintf(name, sizeof(name), "fill-%02d", nreg);
		fd = open(t_path(path, sizeof(path), dir, name), O_RDWR | O_CREAT | O_EXCL, 0600);
		REQUIRE(fd >= 0, "create %s", name);
		r = grow(fd, chunk);
		if (r == 0) {
			fds[nreg] = fd;
			sizes[nreg++] = chunk;
			total += chunk;
			continue;
		}
		if (r != -ENOSPC)
			CHECK(false, "growing %s by %ld: %s (expected 0 or ENOSPC)", name, (long)chunk,
			      t_errname(-r));
		CHECK_OK(fstat(fd, &st), "fstat %s", name);
		CHECK_EQ(st.st_size, 0, "%s: failed grow by %ld (ENOSPC) left size 0", name, (long)chunk);
		close(fd);
		unlink(path);
		chunk /= 2;
		chunk -= chunk % ps;
	}
	CHECK_EQ(total, size, "filled exactly size= with %d regions", nreg);
	CHECK_EQ(t_fs_free(dir), 0, "statfs free = 0 when full");

	/* a full mount refuses every kind of growth */
	fd = CHECK_OK(open(t_path(path, sizeof(path), dir, "extra"), O_RDWR | O_CREAT | O_EXCL, 0600),
		      "create an empty region on a full mount");
	REQUIRE(fd >= 0, "create extra");
	if (reserve_by_truncate)
		CHECK_ERRNO(ftruncate(fd, ps), ENOSPC, "ftruncate a new region to one page when full");
	CHECK_ERRNO(fallocate(fd, 0, 0, ps), ENOSPC, "fallocate one page when full");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK_EQ(st.st_size, 0, "failed grows left the new region empty");
	memset(buf, 'w', sizeof(buf));
	CHECK_ERRNO(pwrite(fd, buf, ps, 0), ENOSPC, "write one page when full");
	CHECK_ERRNO(pwrite(fd, buf, 1, 10 * ps), ENOSPC, "write one byte past the end when full");
	if (reserve_by_truncate) {
		CHECK_ERRNO(ftruncate(fds[0], sizes[0] + ps), ENOSPC, "grow a filled region by a page when full");
		CHECK_OK(fstat(fds[0], &st), "fstat");
		CHECK_EQ(st.st_size, sizes[0], "failed grow left the region's size alone");
	}

	/* every page of every region can be touched through mappings */
	bad = 0;
	sig = 0;
	for (i = 0; i < nreg; i++) {
		char *m = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
		off_t off;

		if (m == MAP_FAILED) {
			CHECK(false, "mmap region %d: %s", i, t_errname(errno));
			continue;
		}
		for (off = 0; off < sizes[i]; off += ps) {
			r = t_probe_write(m + off, (char)(i + 1));
			if (r == 0)
				r = t_probe_write(m + off + ps - 1, (char)(off / ps));
			if (r) {
				bad++;
				sig = r;
				break;
			}
		}
		if (msync(m, sizes[i], MS_SYNC) < 0)
			CHECK(false, "msync(MS_SYNC) of full region %d: %s", i, t_errname(errno));
		munmap(m, sizes[i]);
	}
	CHECK(bad == 0, "stores to every page of %d filled regions: no fault (%d regions faulted, %s)", nreg,
	      bad, t_signame(sig));
	r = 0;
	for (i = 0; i < nreg; i++)
		if (fsync(fds[i]) < 0)
			r++;
	CHECK_EQ(r, 0, "fsync of every filled region succeeds (failures)");
	/* read back: the data is in the regions */
	bad = 0;
	for (i = 0; i < nreg; i++) {
		off_t off;

		for (off = 0; off < sizes[i]; off += ps) {
			char v[2] = {0, 0};

			if (pread(fds[i], &v[0], 1, off) != 1 || pread(fds[i], &v[1], 1, off + ps - 1) != 1 ||
			    v[0] != (char)(i + 1) || v[1] != (char)(off / ps)) {
				bad++;
				break;
			}
		}
	}
	CHECK_EQ(bad, 0, "read() returns the stores on every page (regions with bad data)");
	CHECK_EQ(t_fs_free(dir), 0, "still full after touching everything");

	/* a short write or ENOSPC, never more than the free space */
	CHECK_OK(ftruncate(fds[0], sizes[0] - ps), "shrink region 0 by one page");
	t0 = now_ms();
	while (t_fs_free(dir) < (uint64_t)ps && now_ms() - t0 < 5000)
		usleep(20000);
	CHECK_EQ(t_fs_free(dir), ps, "one page free after the shrink");
	w = pwrite(fd, buf, 3 * ps, 0);
	r = errno;
	CHECK((w == -1 && r == ENOSPC) || (w > 0 && w < 3 * ps),
	      "write of 3 pages with 1 free: ENOSPC or short (returned %ld, errno %s)", (long)w,
	      w < 0 ? t_errname(r) : "-");
	CHECK_OK(fstat(fd, &st), "fstat");
	CHECK(st.st_size == (w > 0 ? w : 0), "size matches what was written (%ld)", (long)st.st_size);
	close(fd);
	unlink(path);

	/* unlinking a filled region gives its space back */
	snprintf(name, sizeof(name), "fill-%02d", 1);
	close(fds[1]);
	CHECK_OK(unlink(t_path(path, sizeof(path), dir, name)), "unlink a filled region");
	fd = open(t_path(path, sizeof(path), dir, "reuse"), O_RDWR | O_CREAT | O_EXCL, 0600);
	REQUIRE(fd >= 0, "create reuse");
	t0 = now_ms();
	while ((r = grow(fd, sizes[1])) == -ENOSPC && now_ms() - t0 < 5000)
		usleep(20000);
	CHECK(r == 0, "space of the unlinked region can be reserved again (%s)", t_errname(-r));
	{
		char *m = mmap(NULL, sizes[1], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		off_t off;

		bad = 0;
		if (m != MAP_FAILED) {
			for (off = 0; off < sizes[1]; off += ps)
				if (t_probe_write(m + off, 1))
					bad++;
			munmap(m, sizes[1]);
		}
		CHECK(m != MAP_FAILED && bad == 0, "every page of the reused space can be stored to");
	}
	close(fd);
	unlink(path);

	for (i = 0; i < nreg; i++) {
		if (i == 1)
			continue;
		close(fds[i]);
		snprintf(name, sizeof(name), "fill-%02d", i);
		unlink(t_path(path, sizeof(path), dir, name));
	}
	t0 = now_ms();
	while (t_fs_free(dir) != size && now_ms() - t0 < 5000)
		usleep(20000);
	CHECK_EQ(t_fs_free(dir), size, "all space free after unlinking everything");
	return t_finish();
}
