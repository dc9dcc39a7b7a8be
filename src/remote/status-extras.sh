# STATUS-EXTRAS: what `hotswap status` reads beyond the facts.
# Args: binary-dir binary-name lock-dir exe-to-ask-`-v` ("-" for none).
# Output: the `#hotswap-status 1` format (parsed by src/run/host-status.ts):
# `backup_sha256` and `backup_s` a pair per backup, `lock_s` (the owner, when
# held), `version_s`.
set -u
export LC_ALL=C
. ./lib/kv.sh
. ./lib/sha.sh

echo '#hotswap-status 1'
for f in "$1/$2".*.bak; do
  [ -f "$f" ] || continue
  echo "backup_sha256 $(sha "$f")"; kv backup_s "$f"
done
[ ! -f "$3/owner" ] || kv lock_s "$(cat -- "$3/owner")"
[ "$4" = - ] || kv version_s "$("$4" -v 2>&1)"
echo end
