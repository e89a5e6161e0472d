#!/bin/sh
# check-symbols.sh must fail on a plugin that calls a macro-only SLURM name (info) or links
# (the real plugin passing is checked by every build): the guard against the pitfalls in docs/facts.md §5.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf 'extern void info(const char *, ...);\nint init(void){info("x");return 0;}\n' >"$dir/bad.c"
cc -shared -fPIC -o "$dir/bad.so" "$dir/bad.c"
if "$here/check-symbols.sh" "$dir/bad.so" 2>"$dir/err"; then
    echo "check-symbols-test: FAIL: undefined info() accepted" >&2; exit 1
fi
grep -q '^  info$' "$dir/err" || { echo "check-symbols-test: FAIL: info not named" >&2; cat "$dir/err" >&2; exit 1; }
echo "check-symbols-test: undefined info() refused, as it must be"
