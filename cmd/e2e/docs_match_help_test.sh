#!/usr/bin/env bash
# The man page (docs/moshx.1) and bash completion (tools/completion/moshx.bash)
# name every subcommand and every option that `moshx <subcommand> --help`
# prints, so documentation cannot silently fall behind the code.
set -u
MOSHX=cmd/moshx
MAN=docs/moshx.1
COMPLETION=tools/completion/moshx.bash
failed=0
subcommands=$($MOSHX --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF {print $1}')
[ -n "$subcommands" ] || { echo "FAIL: no subcommands in moshx --help"; exit 1; }
for sub in $subcommands; do
  grep -q "^\.B $sub\$" "$MAN" || { echo "FAIL: man page has no section for '$sub'"; failed=1; }
  grep -q "commands=\".*\b$sub\b" "$COMPLETION" || { echo "FAIL: completion lacks '$sub'"; failed=1; }
  # Options are the first column of lines starting with "  -" ("-p,--port TEXT=...").
  for opt in $($MOSHX "$sub" --help | awk '/^  -/ {print $1}' | tr ',' '\n' |
               sed 's/[=:].*//' | sort -u); do
    [ "$opt" = -h ] || [ "$opt" = --help ] && continue
    # In roff a dash is written \-.
    roff=$(echo "$opt" | sed 's/-/\\\\-/g')
    grep -q -- "$roff" "$MAN" || { echo "FAIL: man page lacks '$sub $opt'"; failed=1; }
    grep -q -- "${sub}_opts=\".*$opt\b" "$COMPLETION" ||
      { echo "FAIL: completion lacks '$sub $opt'"; failed=1; }
  done
done
# The completion script is valid bash and completes subcommands.
bash -c "source $COMPLETION; COMP_WORDS=(moshx co); COMP_CWORD=1; _moshx; echo \${COMPREPLY[*]}" |
  grep -qx connect || { echo "FAIL: completion does not complete 'co' to 'connect'"; failed=1; }
[ $failed -eq 0 ] && echo PASS
exit $failed
