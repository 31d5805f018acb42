#!/bin/sh
# Stands in for ssh in //cmd/launch:bootstrap_test: called as ssh would be
# (`fake_ssh.sh [options] -T -- DEST COMMAND`), it runs COMMAND locally with
# `sh -c` in $FAKE_SSH_HOME (which becomes $HOME), with PATH=$FAKE_SSH_PATH
# when that is set (to hide hashing tools or substitute uname). With
# FAKE_SSH_ARGV set, it first writes its arguments there, one per line.
if [ -n "${FAKE_SSH_ARGV:-}" ]; then
  printf '%s\n' "$@" >"$FAKE_SSH_ARGV"
fi
for a; do last=$a; done
cd "$FAKE_SSH_HOME" || exit 255
HOME=$FAKE_SSH_HOME
export HOME
if [ -n "${FAKE_SSH_PATH:-}" ]; then
  PATH=$FAKE_SSH_PATH
  export PATH
fi
exec /bin/sh -c "$last"
