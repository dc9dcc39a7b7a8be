# JOURNAL-APPEND: one line, appended in one write, by builtins only (the
# journal is trimmed when the lock is taken: see lock-take.sh).
# Args: journal line.
printf '%s\n' "$2" >> "$1"
