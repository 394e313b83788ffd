/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unmodified POSIX shared memory on the mount: glibc hard-codes /dev/shm
 * for shm_open and sem_open, so with the filesystem mounted over /dev/shm
 * (in a private mount namespace) these calls land on it. shm_open with
 * O_EXCL -> EEXIST, missing -> ENOENT, sharing between processes that open
 * by name; sem_open (temp file + link()) creates, EEXIST, posts across
 * processes; unlink removes the names.
 *
 * Usage: shm_sem DIR     (DIR must be /dev/shm, the test mount)
 */
#include "rfstest.h"

#include <semaphore.h>
#include <sys/statfs.h>
#include <time.h>

#define SHM_NAME "/rfs-itest-shm"
#define SEM_NAME "/rfs-itest-sem"

int main(int argc, char **argv)
{
	const char *dir = t_init(argc, argv, 1, "DIR");
	struct stat st, sdir;
	struct timespec ts;
	char path[4096];
	sem_t *sem;
	char *m;
	int fd;
	pid_t pid;

	REQUIRE(stat(dir, &sdir) == 0 && stat("/dev/shm", &st) == 0, "stat");
	CHECK(sdir.st_dev == st.st_dev && sdir.st_ino == st.st_ino, "the test mount is /dev/shm");

	fd = CHECK_OK(shm_open(SHM_NAME, O_RDWR | O_CREAT | O_EXCL, 0600), "shm_open O_CREAT|O_EXCL");
	REQUIRE(fd >= 0, "shm_open");
	CHECK_OK(stat(t_path(path, sizeof(path), dir, SHM_NAME + 1), &st), "the object is a file on the mount");
	CHECK_ERRNO(shm_open(SHM_NAME, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST, "shm_open O_EXCL again");
	CHECK_ERRNO(shm_open("/rfs-itest-missing", O_RDWR, 0), ENOENT, "shm_open of a missing name");
	CHECK_OK(ftruncate(fd, 65536), "ftruncate the object");
	m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(m != MAP_FAILED, "mmap");
	strcpy(m + 4096, "from-parent");

	sem = sem_open(SEM_NAME, O_CREAT | O_EXCL, 0600, 0);
	CHECK(sem != SEM_FAILED, "sem_open O_CREAT|O_EXCL (errno %s)", sem == SEM_FAILED ? t_errname(errno) : "-");
	REQUIRE(sem != SEM_FAILED, "sem_open");
	snprintf(path, sizeof(path), "%s/sem.%s", dir, SEM_NAME + 1);
	CHECK_OK(stat(path, &st), "sem.%s exists on the mount", SEM_NAME + 1);
	CHECK_ERRNO(sem_open(SEM_NAME, O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED ? -1 : 0, EEXIST,
		    "sem_open O_EXCL again");

	pid = t_fork();
	if (pid == 0) {
		int cfd = shm_open(SHM_NAME, O_RDWR, 0);
		char *cm = cfd >= 0 ? mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0) : MAP_FAILED;
		sem_t *cs = sem_open(SEM_NAME, 0);

		REQUIRE(cm != MAP_FAILED && cs != SEM_FAILED, "child opens both objects by name");
		CHECK(strcmp(cm + 4096, "from-parent") == 0, "child sees the parent's data");
		strcpy(cm + 8192, "from-child");
		CHECK_OK(sem_post(cs), "sem_post in the child");
		t_child_exit();
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	CHECK_OK(sem_timedwait(sem, &ts), "sem_timedwait in the parent");
	CHECK(strcmp(m + 8192, "from-child") == 0, "parent sees the child's data");
	t_wait_child(pid, "shm child");

	CHECK_OK(sem_close(sem), "sem_close");
	CHECK_OK(sem_unlink(SEM_NAME), "sem_unlink");
	CHECK_ERRNO(stat(path, &st), ENOENT, "semaphore file gone");
	CHECK_ERRNO(sem_open(SEM_NAME, 0) == SEM_FAILED ? -1 : 0, ENOENT, "sem_open of the unlinked name");
	munmap(m, 65536);
	close(fd);
	CHECK_OK(shm_unlink(SHM_NAME), "shm_unlink");
	CHECK_ERRNO(shm_open(SHM_NAME, O_RDWR, 0), ENOENT, "shm_open after shm_unlink");
	CHECK_ERRNO(shm_unlink(SHM_NAME), ENOENT, "shm_unlink twice");
	return t_finish();
}
