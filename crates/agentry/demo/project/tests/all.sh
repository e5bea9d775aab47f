#!/bin/sh
# Runs every test script; fails if any fails.
status=0
for t in tests/*_test.sh; do
  [ -e "$t" ] || continue
  sh "$t" || { echo "FAIL $t"; status=1; }
done
exit $status
