// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A file-backed view that survives a restart (CreateFileMapping with a file
 * handle, here as on Windows: CreateFile, then CreateFileMapping of its
 * handle): "write" maps a region backed by FILE (made if missing), writes a pattern and
 * flushes it durably (FlushViewOfFile + FlushFileBuffers); after the daemon
 * (or the machine) restarted, "check" maps the file again and finds it.
 *
 *   cc backed_restart.c $(pkg-config --cflags --libs regionfs)
 *   ./a.out write /var/tmp/state NAME; (restart); ./a.out check /var/tmp/state NAME
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <regionfs/regionfs.h>

#define SIZE (1u << 20)

int main(int argc, char **argv)
{
	struct rfs_create_opts opts = { .lifetime = RFS_LIFETIME_LAST_CLOSE };
	struct rfs_region *r;
	unsigned char *v;
	bool write;
	int e, fd;

	if (argc != 4 || (strcmp(argv[1], "write") && strcmp(argv[1], "check"))) {
		fprintf(stderr, "usage: %s write|check FILE NAME\n", argv[0]);
		return 2;
	}
	write = strcmp(argv[1], "write") == 0;
	fd = open(argv[2], O_RDWR | O_CREAT, 0600);
	if (fd < 0) {
		perror(argv[2]);
		return 2;
	}
	e = rfs_create_backed(argv[3], NULL, fd, SIZE, RFS_PROT_READ | RFS_PROT_WRITE, &opts, &r, NULL);
	close(fd);
	if (e < 0 || (e = rfs_map(r, RFS_MAP_WRITE, 0, 0, (void **)&v)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[2], rfs_strerror(e));
		return 2;
	}
	for (unsigned i = 0; i < SIZE; i += 4096) {
		if (write) {
			v[i] = (unsigned char)(i >> 12);
		} else if (v[i] != (unsigned char)(i >> 12)) {
			fprintf(stderr, "byte %u lost\n", i);
			return 1;
		}
	}
	if (write && (e = rfs_flush(v, 0, RFS_FLUSH_DURABLE)) < 0) {
		fprintf(stderr, "flush: %s\n", rfs_strerror(e));
		return 1;
	}
	printf("%s\n", write ? "written and flushed" : "all there");
	rfs_unmap(v);
	rfs_close(r);
	return 0;
}
