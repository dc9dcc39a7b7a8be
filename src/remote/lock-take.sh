# LOCK-TAKE: the per-host lock, taken atomically (mkdir).
# Args: lock-dir owner-json 1-to-break-a-held-lock journal.
# Output: the `#hotswap-lock 1` format (parsed by src/run/lock.ts): `result
# acquired|broke|held`, `owner_s` the holder found (broke, held), and when the
# lock is ours the journal's tail, which saves the run a round trip.
# Exit 0 taken, 3 held, 4 cannot be created (why on stderr), 1 broken but
# not retaken. The journal is kept to its last 2000 lines here, once per run,
# so that appending to it is a single write.
set -u
export LC_ALL=C
. ./lib/journal.sh

j=$4
journal() {
  if [ -f "$j" ]; then
    n=$(wc -l < "$j")
    if [ "$n" -gt 4000 ]; then tail -n 2000 -- "$j" > "$j.tmp.$$" && mv -f -- "$j.tmp.$$" "$j"; fi
  fi
  journal_tail "$j"; echo end; exit 0
}
owner() { o=$(cat -- "$1/owner" 2>/dev/null) || o='{}'; kv owner_s "$o"; }
echo '#hotswap-lock 1'
if err=$(mkdir -- "$1" 2>&1); then printf '%s\n' "$2" > "$1/owner" && echo "result acquired" && journal; fi
# not held by anyone: we may not create it (permissions, a missing directory)
[ -d "$1" ] || { printf '%s\n' "$err" >&2; exit 4; }
if [ "$3" = 1 ]; then
  echo "result broke"; owner "$1"
  rm -rf -- "$1" && mkdir -- "$1" && printf '%s\n' "$2" > "$1/owner" && journal
  exit 1
fi
echo "result held"; owner "$1"; echo end
exit 3
