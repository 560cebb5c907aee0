#!/bin/bash
# One server per data dir: a second one exits non-zero with a clear "in use"
# error and the first runs on. The state is private: state.db (and its WAL
# and lock files) 0600, the directories kubit makes 0700, whatever the umask.
. "$(dirname "$0")/lib.sh"

data="$E2E_TMP/data"
db=$(db_path "$data")

step "a first server"
start_server "$data"
first=$SERVER_PID

step "a second server on the same data dir is refused"
server_cmd "$data"
run "${SERVER_CMD[@]}"
assert_fails "a second server on the same data dir"
assert_no_match "$ERR" 'server: ready' "the log of the second server"
assert_match "$ERR" 'ERROR.*in use' "the error of the second server"
assert_contains "$ERR" "$db" "the error of the second server"
assert_contains "$ERR" "pid $first" "the error of the second server"
assert_running "$first"

step "the files of a running server are private"
assert_mode "$data" 700
assert_mode "$data/server" 700
assert_mode "$data/server/db" 700
assert_mode "$db" 600
assert_mode "$db.lock" 600
for f in "$db-wal" "$db-shm"; do
  [ -e "$f" ] && assert_mode "$f" 600
done
assert_eq "$(cat "$db.lock")" "$first" "pid in the lock file"

step "the first server stops cleanly, and then another can start"
stop_server "$first"
start_server "$data"
assert_eq "$(cat "$db.lock")" "$SERVER_PID" "pid in the lock file"
stop_server

step "a server killed with SIGKILL does not leave the data dir locked"
start_server "$data"
killed=$SERVER_PID
kill_server "$killed"
assert_eq "$(cat "$db.lock")" "$killed" "pid in the stale lock file"
start_server "$data"
assert_eq "$(cat "$db.lock")" "$SERVER_PID" "pid in the lock file"
stop_server

step "with umask 000 the files are still private"
loose="$E2E_TMP/loose"
old_umask=$(umask)
umask 000
start_server "$loose"
umask "$old_umask"
for d in "$loose" "$loose/server" "$loose/server/db"; do assert_mode "$d" 700; done
assert_mode "$(db_path "$loose")" 600
assert_mode "$(db_path "$loose").lock" 600
for f in "$(db_path "$loose")-wal" "$(db_path "$loose")-shm"; do
  [ -e "$f" ] && assert_mode "$f" 600
done
stop_server

step "a state.db left world-readable is made private again at start"
chmod 644 "$db"
start_server "$data"
assert_mode "$db" 600
stop_server

echo "ok"
