# BACKUP: a verified copy of a file, then pruning of older backups.
# Args: source dest sha256-the-copy-must-have dir file-name how-many-to-keep.
# Copies to a temp name first so a crash never leaves a truncated file under
# the backup's name; then prunes only backups named by hotswap
# (<name>.<UTC timestamp>.bak: they sort by time). Output: the
# `#hotswap-backup 1` format, a `removed_s` line per backup removed.
set -u
export LC_ALL=C
. ./lib/kv.sh
. ./lib/sha.sh

src=$1 dest=$2 want=$3 dir=$4 base=$5 keep=$6 tmp="$2.hotswap-tmp.$$"
cp -p -- "$src" "$tmp" || { rm -f -- "$tmp"; exit 1; }
got=$(sha "$tmp")
if [ "$got" != "$want" ]; then rm -f -- "$tmp"; echo "the backup copy has sha256 $got, expected $want" >&2; exit 1; fi
mv -f -- "$tmp" "$dest" || exit 1
echo '#hotswap-backup 1'
# hotswap's backups sort by name (a UTC stamp), so the glob lists them oldest first
STAMP='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.bak'
n=0
# shellcheck disable=SC2254 # STAMP is a pattern: unquoted on purpose
for f in "$dir/$base".*.bak; do case ${f#"$dir/$base".} in $STAMP) n=$((n + 1)) ;; esac; done
for f in "$dir/$base".*.bak; do
  [ "$n" -gt "$keep" ] || break
  # shellcheck disable=SC2254 # STAMP is a pattern: unquoted on purpose
  case ${f#"$dir/$base".} in $STAMP) rm -f -- "$f" && kv removed_s "$f"; n=$((n - 1)) ;; esac
done
echo end
