# JOURNAL-READ: the journal's tail. Args: journal.
# Output: the `#hotswap-journal 1` format (parsed by src/run/journal.ts).
set -u
export LC_ALL=C
. ./lib/journal.sh

echo '#hotswap-journal 1'
journal_tail "$1"
echo end
