#!/bin/bash
# The command line: version, help of kubit and of every command, and errors
# for what it does not know (exit 2, a message on stderr, nothing on stdout).
. "$(dirname "$0")/lib.sh"

case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  arm*) arch=arm ;;
  *) arch=$(uname -m) ;;
esac
version_re="^kubit version v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)? \([^()[:space:]]+\) linux/$arch\$"

step "--version: one line, \"kubit version vX.Y.Z (commit) linux/$arch\""
run "$KUBIT" --version
assert_rc 0 "kubit --version"
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 1 "lines printed by --version"
assert_match "$OUT" "$version_re" "kubit --version"
assert_eq "$ERR" "" "stderr of --version"
version=$OUT
for form in -v version; do
  run "$KUBIT" $form
  assert_rc 0 "kubit $form"
  assert_eq "$OUT" "$version" "kubit $form"
done

step "--help lists the commands and exits 0"
run "$KUBIT" --help
assert_rc 0 "kubit --help"
assert_eq "$ERR" "" "stderr of kubit --help"
help=$OUT
assert_match "$help" '^Usage:' "kubit --help"
assert_match "$help" '^Commands:' "kubit --help"
commands=$(printf '%s\n' "$help" |
  awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }')
echo "commands: $(echo $commands)"
for c in server backup restore version; do
  printf '%s\n' "$commands" | grep -qx "$c" || fail "kubit --help does not list the command $c:
$help"
done
for form in -h help; do
  run "$KUBIT" $form
  assert_rc 0 "kubit $form"
  assert_eq "$OUT" "$help" "kubit $form"
done

step "no arguments: the usage on stderr, exit 2"
run "$KUBIT"
assert_rc 2 "kubit without arguments"
assert_eq "$OUT" "" "stdout of kubit without arguments"
assert_match "$ERR" '^Usage:' "stderr of kubit without arguments"

step "every command's --help (and -h) prints its usage and exits 0"
for c in $commands; do
  for form in --help -h; do
    run "$KUBIT" "$c" "$form"
    assert_rc 0 "kubit $c $form"
    assert_eq "$ERR" "" "stderr of kubit $c $form"
    assert_match "$OUT" "^  kubit $c( |\$)" "usage line of kubit $c $form"
    assert_match "$OUT" '^Flags:' "kubit $c $form"
    assert_match "$OUT" '^  -h, --help' "kubit $c $form"
  done
done
# --help wins over whatever else is on the line, and does nothing.
run "$KUBIT" server --data-dir "$E2E_TMP/not-created" --help
assert_rc 0 "kubit server --data-dir D --help"
assert_no_file "$E2E_TMP/not-created" "data dir of kubit server --help"

step "the commands that work on the state document --data-dir"
for c in server backup restore; do
  run "$KUBIT" "$c" --help
  assert_match "$OUT" '^  --data-dir string' "kubit $c --help"
done

step "an unknown command: exit 2 with an error naming it"
for bad in bogus --bogus -x SERVER; do
  run "$KUBIT" "$bad"
  assert_rc 2 "kubit $bad"
  assert_eq "$OUT" "" "stdout of kubit $bad"
  assert_contains "$ERR" "unknown command \"$bad\"" "stderr of kubit $bad"
done

step "an unknown flag of every command: exit 2 with an error naming it"
for c in $commands; do
  for bad in --no-such-flag -no-such-flag --no-such-flag=1; do
    run "$KUBIT" "$c" $bad
    assert_rc 2 "kubit $c $bad"
    assert_eq "$OUT" "" "stdout of kubit $c $bad"
    assert_match "$ERR" '^Error: unknown flag: --no-such-flag$' "stderr of kubit $c $bad"
    assert_match "$ERR" "^  kubit $c" "usage in the stderr of kubit $c $bad"
  done
done

step "wrong arguments: exit 2 and nothing done"
data="$E2E_TMP/data"
for args in "version extra" "server extra" "backup" "backup --data-dir $data a b" \
  "restore" "restore --data-dir $data a b"; do
  run "$KUBIT" $args
  assert_rc 2 "kubit $args"
  assert_match "$ERR" '^Error: wrong number of arguments' "stderr of kubit $args"
done
run "$KUBIT" backup --data-dir
assert_rc 2 "kubit backup --data-dir (no value)"
assert_match "$ERR" '^Error: flag needs a value: --data-dir' "stderr of kubit backup --data-dir"
run "$KUBIT" server --data-dir "$data" --log-level loud
assert_rc 2 "kubit server --log-level loud"
assert_contains "$ERR" '"loud"' "stderr of kubit server --log-level loud"
assert_no_file "$data" "data dir after commands that failed on their arguments"

echo "ok"
