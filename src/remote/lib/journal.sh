# shellcheck shell=sh
. ./lib/kv.sh

# journal_tail FILE: the journal's last 400 lines (JSON, one entry a line), a
# `journal_s` line each. A torn last line (a crash mid-write) still goes out:
# the parser skips it.
journal_tail() {
  [ -f "$1" ] || return 0
  tail -n 400 -- "$1" | while IFS= read -r _jl || [ -n "$_jl" ]; do kv journal_s "$_jl"; done
}
