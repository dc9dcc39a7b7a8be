# RESTORE: puts a backup back. Args: backup target sha256-the-backup-must-have.
# The backup is checked, then hard-linked to a temp name beside the target and
# renamed over it: a link takes no data block and no inode (on a disk file
# system), so a full disk cannot stop it. Where no link can be made (another
# file system, tmpfs with no inode left, no links) it is copied; where not even
# that can be written, the backup itself is renamed into place (then linked
# back to its own name when possible). Prints how: "link", "copy <why>",
# "moved <why>" or "moved-nolink <why>".
set -u
. ./lib/sha.sh

bak=$1 target=$2 want=$3 tmp="$2.hotswap-restore.$$"
got=$(sha "$bak") || { echo "cannot read the backup $bak" >&2; exit 1; }
[ "$got" = "$want" ] || { echo "the backup $bak has sha256 $got, expected $want" >&2; exit 1; }
if why=$(ln -f -- "$bak" "$tmp" 2>&1); then
  mv -f -- "$tmp" "$target" || { rm -f -- "$tmp"; exit 1; }
  echo link; exit 0
fi
rm -f -- "$tmp"
if cp -p -- "$bak" "$tmp" 2>/dev/null && [ "$(sha "$tmp")" = "$want" ] && mv -f -- "$tmp" "$target"; then
  printf 'copy %s\n' "$why"; exit 0
fi
rm -f -- "$tmp"
mv -f -- "$bak" "$target" || exit 1
if ln -- "$target" "$bak" 2>/dev/null; then printf 'moved %s\n' "$why"; else printf 'moved-nolink %s\n' "$why"; fi
