# The output format of every host script that reports data (parsed by
# parseLines in src/nginx/format.ts): line based, `key value`, one fact a line.
# The first line names the format (`#hotswap-<kind> 1`), the last is `end`, so
# a truncated output is detected. Anything that can hold arbitrary bytes never
# breaks the framing: keys ending in `_s` carry a string as `=text` when it is
# printable ASCII and as `%hex` otherwise (paths, titles, log lines); keys
# ending in `_hex` carry raw bytes as hex (/proc/PID/cmdline with its NUL
# separators, pid file content, the error log tail). A process is a block: a
# line `proc <scope> <pid>` followed by the `p.<field> <value>` lines of it.
# shellcheck shell=sh disable=SC2034
# (SC2034: NL and BUF are this file's outputs, read by the scripts that include it.)

# kv KEY STRING: a "KEY_s VALUE" line. The value is "=STRING" when STRING is all
# printable ASCII (the common case; no fork), else "%" + its bytes in hex (a
# newline, a tab, UTF-8...). sh variables cannot hold NUL, so that case never arises.
kv() {
  printf '%s ' "$1"
  case $2 in
    *[![:print:]]*) printf '%%'; printf '%s' "$2" | od -An -v -tx1 | tr -d ' \n' ;;
    *) printf '=%s' "$2" ;;
  esac
  echo
}
NL='
'
# kvb KEY STRING: the same line, appended to BUF instead of printed. Scripts that
# must fork for some facts (stat, sha256sum) gather first, then print: a fact
# found later can still go where the format wants it, at no fork.
kvb() {
  case $2 in
    *[![:print:]]*) BUF="$BUF$1 %$(printf '%s' "$2" | od -An -v -tx1 | tr -d ' \n')$NL" ;;
    *) BUF="$BUF$1 =$2$NL" ;;
  esac
}
# hexw FILE MAX: the first MAX bytes of FILE as hex on ONE line, in one fork (od
# -w: a line holds MAX bytes), bytes separated by blanks that the parser drops.
hexw() { od -An -v -tx1 -w"$2" -N"$2" "$1" 2>/dev/null; }
