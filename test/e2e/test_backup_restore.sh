#!/bin/bash
# kubit backup while a server runs; kubit restore refuses while it runs and
# works once it is stopped; the server then runs on the restored state.
# Nothing refused may touch the state or the backup. With the sqlite3 shell
# installed, the test also puts data in the state to see it come back.
. "$(dirname "$0")/lib.sh"

data="$E2E_TMP/data"
db=$(db_path "$data")
backup="$E2E_TMP/backup.db"

sql() {  # sql DB STATEMENTS: runs them with the sqlite3 shell
  sqlite3 -batch -bail "$1" "$2" || fail "sqlite3 $1: $2"
}
# put_row DB KEY VALUE: a new key, written as the store writes it, at the
# revision after the last.
put_row() {
  sql "$1" "INSERT INTO kv (id, name, create_revision, prev_revision, deleted, expires, value)
            SELECT r, CAST('$2' AS BLOB), r, 0, 0, 0, CAST('$3' AS BLOB)
            FROM (SELECT COALESCE(MAX(id), 0) + 1 AS r FROM kv)"
}
max_rev() { sql "$1" "SELECT COALESCE(MAX(id), 0) FROM kv"; }
# The revision a store opens at: the last row's, or the end of the block it
# reserved for heartbeat (Lease) writes, whichever is later.
open_rev() {
  sql "$1" "SELECT MAX(r) FROM (SELECT COALESCE(MAX(id), 0) AS r FROM kv
            UNION ALL SELECT value FROM meta WHERE name IN ('reserved_revision', 'compact_revision'))"
}
value_of() { sql "$1" "SELECT CAST(value AS TEXT) FROM kv WHERE name = CAST('$2' AS BLOB)"; }
# Every row, for comparing two databases.
rows() { sql "$1" "SELECT id, CAST(name AS TEXT), deleted, hex(value) FROM kv ORDER BY id"; }

if have_sqlite3; then
  echo "sqlite3 found: data is put into the state and checked after the restore"
else
  echo "sqlite3 not installed: the restore is checked byte for byte only"
fi

step "a server creates the state"
start_server "$data"
stop_server
assert_file "$db" "the database"
if have_sqlite3; then
  put_row "$db" /registry/e2e/marker before-backup
  assert_eq "$(value_of "$db" /registry/e2e/marker)" before-backup "the marker key"
fi

step "backup while the server runs"
# Read before the start: a server writes at start (the kubernetes Service's
# endpoints follow its port, which differs on every start here).
have_sqlite3 && opened_at=$(open_rev "$db")
start_server "$data"
server=$SERVER_PID
if have_sqlite3; then
  assert_match "$(cat "$SERVER_LOG")" "store opened .* at revision $opened_at " "server log"
fi
run "$KUBIT" backup --data-dir "$data" "$backup"
assert_rc 0 "kubit backup"
assert_file "$backup" "the backup"
assert_mode "$backup" 600
assert_contains "$ERR" "wrote $backup" "kubit backup log"
assert_eq "$(head -c 15 "$backup")" "SQLite format 3" "start of the backup"
assert_no_file "$backup-wal" "the backup's WAL"
assert_no_file "$backup-journal" "the backup's journal"
if have_sqlite3; then
  assert_eq "$(sql "$backup" 'PRAGMA integrity_check')" ok "integrity of the backup"
  assert_eq "$(sql "$backup" 'PRAGMA journal_mode')" delete "journal mode of the backup"
  assert_eq "$(value_of "$backup" /registry/e2e/marker)" before-backup "the marker in the backup"
  backup_rows=$(rows "$backup")
  backup_rev=$(open_rev "$backup")
fi
backup_sum=$(checksum "$backup")
assert_running "$server"

step "backup to a file that exists is refused and leaves it alone"
run "$KUBIT" backup --data-dir "$data" "$backup"
assert_fails "kubit backup to an existing file"
assert_contains "$ERR" "already exists" "kubit backup to an existing file"
assert_checksum "$backup" "$backup_sum" "the existing backup"

step "restore while the server runs is refused, naming the process"
db_sum=$(checksum "$db")
run "$KUBIT" restore --data-dir "$data" "$backup"
assert_fails "kubit restore while a server runs"
assert_match "$ERR" "running" "kubit restore while a server runs"
assert_contains "$ERR" "pid $server" "kubit restore while a server runs"
assert_checksum "$db" "$db_sum" "the state"
assert_no_file "$db.restore" "the restore's temporary file"
assert_running "$server"
stop_server "$server"

if have_sqlite3; then
  step "the state moves on after the backup"
  put_row "$db" /registry/e2e/later after-backup
  db_rows=$(rows "$db")
  [ "$db_rows" != "$backup_rows" ] || fail "the state did not change after the backup"
fi
db_sum=$(checksum "$db")

step "restore of what is not a kubit backup is refused, the state untouched"
head -c 65536 /dev/urandom >"$E2E_TMP/garbage.bin"
: >"$E2E_TMP/empty.db"
printf 'not a database\n' >"$E2E_TMP/text.db"
cp "$backup" "$E2E_TMP/corrupt-backup.db"
# Page 2 onwards of a copy of the good backup: the tables' pages.
head -c 8192 /dev/zero | tr '\0' 'Z' |
  dd of="$E2E_TMP/corrupt-backup.db" bs=4096 seek=1 conv=notrunc 2>/dev/null
bad="garbage.bin empty.db text.db corrupt-backup.db missing.db"
if have_sqlite3; then
  sql "$E2E_TMP/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1)"
  bad="$bad other.db"
fi
for f in $bad; do
  before=$( [ -f "$E2E_TMP/$f" ] && checksum "$E2E_TMP/$f")
  run "$KUBIT" restore --data-dir "$data" "$E2E_TMP/$f"
  assert_fails "kubit restore $f"
  assert_contains "$ERR" "$E2E_TMP/$f" "the error of kubit restore $f"
  assert_checksum "$db" "$db_sum" "the state after kubit restore $f"
  assert_no_file "$db.restore" "the restore's temporary file after kubit restore $f"
  [ -z "$before" ] || assert_checksum "$E2E_TMP/$f" "$before" "$f after kubit restore $f"
done
have_sqlite3 && assert_eq "$(rows "$db")" "$db_rows" "rows after the refused restores"

step "restore with the server stopped"
run "$KUBIT" restore --data-dir "$data" "$backup"
assert_rc 0 "kubit restore"
assert_contains "$ERR" "restored $db from $backup" "kubit restore log"
assert_same_file "$db" "$backup" "the restored state and the backup"
assert_checksum "$backup" "$backup_sum" "the backup after the restore"
assert_mode "$db" 600
assert_no_file "$db.restore" "the restore's temporary file"
assert_no_file "$db-wal" "a WAL of the old state"
if have_sqlite3; then
  assert_eq "$(rows "$db")" "$backup_rows" "rows after the restore"
  assert_eq "$(value_of "$db" /registry/e2e/later)" "" "a key written after the backup"
fi

step "the server runs on the restored state"
start_server "$data"
have_sqlite3 && assert_match "$(cat "$SERVER_LOG")" "store opened .* at revision $backup_rev " "server log"
stop_server
if have_sqlite3; then
  assert_eq "$(value_of "$db" /registry/e2e/marker)" before-backup "the marker after a server ran"
  assert_eq "$(value_of "$db" /registry/e2e/later)" "" "a key written after the backup"
fi

step "restore over the state a crashed server left (with its WAL)"
start_server "$data"
kill_server
have_sqlite3 && put_row "$db" /registry/e2e/crashed lost-by-restore
run "$KUBIT" restore --data-dir "$data" "$backup"
assert_rc 0 "kubit restore after a crash"
assert_same_file "$db" "$backup" "the restored state and the backup"
assert_no_file "$db-wal" "the crashed server's WAL"
assert_no_file "$db-shm" "the crashed server's shared memory file"
have_sqlite3 && assert_eq "$(rows "$db")" "$backup_rows" "rows after the restore"
start_server "$data"
have_sqlite3 && assert_match "$(cat "$SERVER_LOG")" "store opened .* at revision $backup_rev " "server log"
stop_server

step "restore into a data dir that has never held a state"
fresh="$E2E_TMP/fresh"
run "$KUBIT" restore --data-dir "$fresh" "$backup"
assert_rc 0 "kubit restore into a new data dir"
assert_same_file "$(db_path "$fresh")" "$backup" "the restored state and the backup"
assert_mode "$fresh/server/db" 700
assert_mode "$(db_path "$fresh")" 600
start_server "$fresh"
stop_server

step "backup refuses without a state or without a place to write"
run "$KUBIT" backup --data-dir "$E2E_TMP/nothing" "$E2E_TMP/from-nothing.db"
assert_fails "kubit backup of a data dir without a state"
assert_contains "$ERR" "no database" "kubit backup of a data dir without a state"
assert_no_file "$E2E_TMP/from-nothing.db" "a backup of nothing"
run "$KUBIT" backup --data-dir "$data" "$E2E_TMP/no/such/dir/b.db"
assert_fails "kubit backup into a missing directory"
assert_no_file "$E2E_TMP/no" "the missing directory"

echo "ok"
