# RENAME: the atomic replacement. Args: staged-file target.
mv -f -- "$1" "$2"
