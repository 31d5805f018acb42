#!/bin/sh
echo "bazel coverage is not available in moshx's offline build" >&2
exit 1
