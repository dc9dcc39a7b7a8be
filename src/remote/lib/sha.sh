# shellcheck shell=sh

# sha FILE: prints the file's sha256 in hex (no fork beyond sha256sum's own).
sha() { _sha=$(sha256sum < "$1") || return 1; printf '%s\n' "${_sha%% *}"; }
