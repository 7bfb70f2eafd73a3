#!/bin/sh
# A worker of jobs.yaml: one job a line on stdin, "done JOB" for each.
while read -r job; do
	echo "done $job"
done
