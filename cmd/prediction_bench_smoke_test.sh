#!/bin/sh
# Runs the prediction bench briefly: one trace, one RTT; it must print a row.
set -e
out=$(cmd/prediction_bench --traces=password --rtts=200)
echo "$out"
echo "$out" | grep -q '^password .* yes$'
