#!/bin/sh
# Started by mpiexec for each MPI rank, before the rank itself: writes one line naming the rank
# (hydra's PMI_RANK) and the address of its node (qm0 in the rank's own network namespace, the
# node it really runs on), then becomes the rank (exec), so the rank's memory is measured as is.
addr=$(/usr/sbin/ip -4 -o addr show dev qm0 | awk '{split($4, a, "/"); print a[1]}')
printf '{"where_rank": %s, "addr": "%s"}\n' "${PMI_RANK:--1}" "$addr" >&2
exec "$@"
