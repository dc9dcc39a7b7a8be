# JOURNAL-LINE: not run alone: put in front of another script by
# src/run/journaled.ts, so the journal line is written in the same round trip
# as the command it announces, which does not run at all when the line cannot
# be written. Args: journal line, then the command's own arguments.
printf '%s\n' "$2" >> "$1" || { echo "hotswap-journal: cannot append to $1" >&2; exit 213; }; shift 2
