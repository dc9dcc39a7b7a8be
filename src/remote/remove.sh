# REMOVE: a file hotswap made. Args: path.
rm -f -- "$1"
