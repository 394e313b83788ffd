/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One POSIX shared-memory operation through glibc, for the multi-user test
 * (t-shm-users.sh runs it as different users with setpriv). Prints "OK"
 * (plus data for read) or the exact errno name, and exits 0 either way, so
 * the shell compares the output. umask is 0: modes are exactly as given.
 *
 *   shm_op create NAME MODE DATA   shm_open O_RDWR|O_CREAT|O_EXCL, ftruncate
 *                                  to a page, write DATA through a mapping
 *   shm_op open NAME FLAGS         shm_open with FLAGS: rdonly, rdwr,
 *                                  rdwr+creat, rdwr+creat+excl (mode 0600)
 *   shm_op read NAME               shm_open O_RDONLY, mmap PROT_READ, print
 *   shm_op write NAME DATA         shm_open O_RDWR, mmap, write DATA
 *   shm_op unlink NAME             shm_unlink (glibc turns EPERM into EACCES)
 *   shm_op rawunlink NAME          unlink(2) of /dev/shm/NAME (the kernel's errno)
 *   shm_op semcreate NAME MODE     sem_open O_CREAT|O_EXCL, value 0
 *   shm_op semopen NAME            sem_open existing
 *   shm_op semunlink NAME          sem_unlink
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int report(int r)
{
	if (r < 0)
		printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	else
		printf("OK\n");
	return 0;
}

static int parse_flags(const char *s)
{
	if (strcmp(s, "rdonly") == 0)
		return O_RDONLY;
	if (strcmp(s, "rdwr") == 0)
		return O_RDWR;
	if (strcmp(s, "rdwr+creat") == 0)
		return O_RDWR | O_CREAT;
	if (strcmp(s, "rdwr+creat+excl") == 0)
		return O_RDWR | O_CREAT | O_EXCL;
	fprintf(stderr, "shm_op: bad flags %s\n", s);
	exit(2);
}

static int with_map(const char *name, int oflag, int prot, const char *data)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = shm_open(name, oflag, 0);
	char *m;

	if (fd < 0)
		return report(-1);
	m = mmap(NULL, page, prot, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return report(-1);
	}
	if (data) {
		snprintf(m, page, "%s", data);
		printf("OK\n");
	} else {
		printf("OK %.*s\n", (int)strnlen(m, page), m);
	}
	munmap(m, page);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *op = argc > 2 ? argv[1] : "", *name = argc > 2 ? argv[2] : "";
	long page = sysconf(_SC_PAGESIZE);
	sem_t *s;
	int fd;

	umask(0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(op, "create") == 0 && argc == 5) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, (mode_t)strtoul(argv[3], NULL, 8));
		if (fd < 0 || ftruncate(fd, page) < 0)
			return report(-1);
		close(fd);
		/* reopen by name, as another program would (modes used here
		 * all give the owner write permission) */
		return with_map(name, O_RDWR, PROT_READ | PROT_WRITE, argv[4]);
	}
	if (strcmp(op, "open") == 0 && argc == 4) {
		fd = shm_open(name, parse_flags(argv[3]), 0600);
		if (fd >= 0)
			close(fd);
		return report(fd);
	}
	if (strcmp(op, "read") == 0 && argc == 3)
		return with_map(name, O_RDONLY, PROT_READ, NULL);
	if (strcmp(op, "write") == 0 && argc == 4)
		return with_map(name, O_RDWR, PROT_READ | PROT_WRITE, argv[3]);
	if (strcmp(op, "unlink") == 0 && argc == 3)
		return report(shm_unlink(name));
	if (strcmp(op, "rawunlink") == 0 && argc == 3 && name[0] == '/') {
		char path[4096];

		snprintf(path, sizeof(path), "/dev/shm%s", name);
		return report(unlink(path));
	}
	if (strcmp(op, "semcreate") == 0 && argc == 4) {
		s = sem_open(name, O_CREAT | O_EXCL, (mode_t)strtoul(argv[3], NULL, 8), 0);
		if (s != SEM_FAILED)
			sem_close(s);
		return report(s == SEM_FAILED ? -1 : 0);
	}
	if (strcmp(op, "semopen") == 0 && argc == 3) {
		s = sem_open(name, 0);
		if (s != SEM_FAILED)
			sem_close(s);
		return report(s == SEM_FAILED ? -1 : 0);
	}
	if (strcmp(op, "semunlink") == 0 && argc == 3)
		return report(sem_unlink(name));
	fprintf(stderr, "usage: shm_op create|open|read|write|unlink|rawunlink|semcreate|semopen|semunlink NAME ...\n");
	return 2;
}
