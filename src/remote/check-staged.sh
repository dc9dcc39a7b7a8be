# CHECK-STAGED: checks an uploaded build before it is renamed into place.
# Args: staged-file sha256-it-must-have file-whose-owner-and-mode-it-takes
# (or "-") running-binary-to-compare-`-V`-with (or "-") directory-to-test-from
# ("/", the master's cwd when its -p is relative, or "-" for no test), then the
# arguments for `nginx -t` (the running master's -p/-c/-g).
# Exit 10: wrong digest, 11: owner or mode, 12: nginx -t failed, 13: the
# directory cannot be entered, 14: the build cannot be run.
set -u
. ./lib/sha.sh

f=$1 want=$2 ref=$3 running=$4 cwd=$5; shift 5
got=$(sha "$f")
[ "$got" = "$want" ] || { echo "the uploaded file has sha256 $got, expected $want" >&2; exit 10; }
if [ "$ref" != - ]; then
  # the login already owns both with its own group (test builtins): no chown
  if ! { [ -O "$ref" ] && [ -G "$ref" ] && [ -O "$f" ] && [ -G "$f" ]; }; then
    chown --reference="$ref" -- "$f" || exit 11
  fi
  chmod --reference="$ref" -- "$f" || exit 11
else
  chmod 0755 -- "$f" || exit 11
fi
if [ "$running" != - ]; then
  echo "--- new -V"; "$f" -V 2>&1
  echo "--- running -V"; "$running" -V 2>&1
  echo "--- end -V"
fi
if [ "$cwd" != - ]; then
  if ! cd -- "$cwd" 2>/dev/null; then
    printf 'the login %s cannot enter %s\n' "$(id -un 2>/dev/null || id -u)" "$cwd" >&2; exit 13
  fi
  out=$("$f" "$@" -t 2>&1); rc=$?
  case $rc in
    0) printf '%s\n' "$out" ;;
    126|127) printf 'cannot run %s: %s\n' "$f" "$out" >&2; exit 14 ;;
    *) printf '%s\n' "$out" >&2; exit 12 ;;
  esac
fi
