// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The single-instance pattern (CreateFileMapping + ERROR_ALREADY_EXISTS):
 * the first instance creates the region and keeps it; a second learns from
 * "already existed" that one runs, and which. The region's lifetime is the
 * Windows one (last-close): when the first instance exits, however it
 * exits, the name goes and the next start is a first instance again.
 *
 *   cc single_instance.c $(pkg-config --cflags --libs regionfs)
 *   ./a.out NAME     # prints "first instance" and waits for stdin to close,
 *                    # or "already running: pid N" and exits 1
 */
#include <stdio.h>
#include <unistd.h>

#include <regionfs/regionfs.h>

int main(int argc, char **argv)
{
	struct rfs_region *r;
	bool existed;
	int *pid, e;

	if (argc != 2) {
		fprintf(stderr, "usage: %s NAME\n", argv[0]);
		return 2;
	}
	e = rfs_create(argv[1], sizeof(int), RFS_PROT_READ | RFS_PROT_WRITE, NULL, &r, &existed);
	if (e < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], rfs_strerror(e));
		return 2;
	}
	e = rfs_map(r, existed ? RFS_MAP_READ : RFS_MAP_WRITE, 0, 0, (void **)&pid);
	if (e < 0) {
		fprintf(stderr, "%s: map: %s\n", argv[1], rfs_strerror(e));
		return 2;
	}
	if (existed) {
		printf("already running: pid %d\n", *pid);
		rfs_unmap(pid);
		rfs_close(r);
		return 1;
	}
	*pid = (int)getpid();
	printf("first instance\n");
	fflush(stdout);
	while (getchar() != EOF)
		;
	rfs_unmap(pid);
	rfs_close(r);
	return 0;
}
