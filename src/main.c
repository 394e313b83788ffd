/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * regionfs: named shared-memory regions as files. Thin: parse the options,
 * then hand over to fs/ (rfs_run) which builds the pieces and serves.
 */
#include <stdio.h>

#include "common/log.h"
#include "fs/fs.h"

int main(int argc, char **argv)
{
	struct rfs_options o;
	int status = 0;

	if (rfs_options_parse(argc, argv, &o) < 0)
		return 1;
	if (o.show_help) {
		rfs_options_usage(argv[0]);
	} else if (o.show_version) {
		printf("regionfs %s\n", RFS_VERSION);
	} else {
		rfs_log_set_debug(o.debug);
		status = rfs_run(&o);
	}
	rfs_options_free(&o);
	return status;
}
