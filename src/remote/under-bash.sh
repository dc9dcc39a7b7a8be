# UNDER-BASH: runs the script given as $1, with the remaining arguments, under
# bash when the host has one (its `read -t` pauses without a fork: see nap in
# wait.sh), else in this sh itself. command -v is a builtin: choosing costs no
# fork. bash reads no start-up file: BASH_ENV unset, and --norc for the
# ~/.bashrc that some builds source when they think sshd started them.
s=$1; shift
if command -v bash >/dev/null 2>&1; then unset BASH_ENV; exec bash --norc --noprofile -c "$s" hotswap "$@"; fi
eval "$s"
