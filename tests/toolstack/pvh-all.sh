#!/bin/sh
# Issue 11's checks in one boot of dom0 (one boot less in make check):
# pvh.sh (a PVH domU's life under xl, create/destroy cycles), then
# pvh-disk.sh (a PVH domU on blkback's xvda).  One count, one verdict.
TS_NO_FINISH=1
. /tests/toolstack/pvh.sh
. /tests/toolstack/pvh-disk.sh
finish
