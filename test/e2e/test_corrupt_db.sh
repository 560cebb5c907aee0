#!/bin/bash
# A corrupt state.db: the server refuses to start (exit non-zero, an error
# naming the file) and leaves the file as it found it, byte for byte: not
# repaired, replaced or initialised anew. The way back is kubit restore, so
# a backup that kubit backup says it wrote must be one kubit restore takes.
. "$(dirname "$0")/lib.sh"

data="$E2E_TMP/data"
db=$(db_path "$data")

# overwrite FILE OFFSET COUNT: COUNT bytes of 'Z' at OFFSET, in place.
overwrite() {
  head -c "$3" /dev/zero | tr '\0' 'Z' |
    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null || fail "cannot overwrite $1"
}
page_size() {  # from the database header, bytes 16-17 (big-endian; 1 means 65536)
  set -- $(od -An -tu1 -j16 -N2 "$1")
  ps=$(($1 * 256 + $2))
  [ "$ps" = 1 ] && ps=65536
  echo "$ps"
}

# refused WHAT: a server on $data must fail because of the corrupt $db and
# leave it alone.
refused() {
  sum=$(checksum "$db")
  cp "$db" "$E2E_TMP/before.db"
  inode=$(stat -c %i "$db")
  size=$(stat -c %s "$db")
  server_cmd "$data"
  run "${SERVER_CMD[@]}"
  assert_fails "a server on $1"
  assert_no_match "$ERR" 'server: ready' "the log of a server on $1"
  assert_contains "$ERR" "$db" "the error of a server on $1"
  assert_match "$ERR" 'ERROR.*(corrupt|malformed|integrity|not a database)' \
    "the error of a server on $1"
  assert_eq "$(stat -c %i "$db")" "$inode" "inode of $db (replaced?)"
  assert_eq "$(stat -c %s "$db")" "$size" "size of $db"
  if [ "$(checksum "$db")" != "$sum" ]; then
    fail "a server on $1 wrote to $db before refusing it; bytes changed (offset from 1, old, new, octal):
$(cmp -l "$E2E_TMP/before.db" "$db" | head -n 20)
its log:
$ERR"
  fi
}

# backup_restorable: kubit backup of the corrupt $db either fails, naming
# it, or writes a backup that kubit restore accepts.
backup_restorable() {
  out="$E2E_TMP/backup-of-corrupt.db"
  rm -f "$out"
  run "$KUBIT" backup --data-dir "$data" "$out"
  if [ "$RC" != 0 ]; then
    assert_fails "kubit backup of a corrupt state"
    assert_contains "$ERR" "$db" "the error of kubit backup of a corrupt state"
    assert_no_file "$out" "the backup of a corrupt state"
    return 0
  fi
  backup_log=$ERR
  run "$KUBIT" restore --data-dir "$E2E_TMP/restore-target" "$out"
  [ "$RC" = 0 ] || fail "kubit backup of a corrupt state succeeded:
$backup_log
but kubit restore refuses what it wrote (exit $RC):
$ERR"
}

step "a server creates the state; a good backup of it"
start_server "$data"
stop_server
assert_file "$db" "the database"
cp "$db" "$E2E_TMP/pristine.db"
run "$KUBIT" backup --data-dir "$data" "$E2E_TMP/good-backup.db"
assert_rc 0 "kubit backup"
psize=$(page_size "$E2E_TMP/pristine.db")
pages=$(($(stat -c %s "$E2E_TMP/pristine.db") / psize))
echo "database: $pages pages of $psize bytes"
[ "$pages" -ge 3 ] || fail "the new database has only $pages pages"

step "a garbage header"
cp "$E2E_TMP/pristine.db" "$db"
overwrite "$db" 0 100
check refused "a database with a garbage header"

step "a damaged table page (page 3)"
cp "$E2E_TMP/pristine.db" "$db"
overwrite "$db" $((2 * psize)) "$psize"
check refused "a database with a damaged page"

step "a truncated database"
cp "$E2E_TMP/pristine.db" "$db"
truncate -s $((psize * 2 + 1000)) "$db"
check refused "a truncated database"

step "a file that is no database at all"
for i in $(seq 1 200); do echo "this is not a database"; done >"$db"
check refused "a text file"

step "kubit restore brings a good state back over the corrupt one"
run "$KUBIT" restore --data-dir "$data" "$E2E_TMP/good-backup.db"
assert_rc 0 "kubit restore over a corrupt state"
assert_same_file "$db" "$E2E_TMP/good-backup.db" "the restored state and the backup"
start_server "$data"
stop_server

# kubit restore leaves a database in rollback-journal mode (the backup's
# mode) that the first server start switches to WAL: a corrupt file in that
# mode must not be written before it is checked either.
step "a damaged page in a restored state that no server has opened yet"
run "$KUBIT" restore --data-dir "$data" "$E2E_TMP/good-backup.db"
assert_rc 0 "kubit restore"
overwrite "$db" $((2 * psize)) "$psize"
check refused "a restored database with a damaged page"

step "kubit backup of a corrupt state fails, or writes a backup kubit restore takes"
cp "$E2E_TMP/pristine.db" "$db"
overwrite "$db" $((2 * psize)) "$psize"
check backup_restorable

finish
