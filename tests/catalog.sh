#!/usr/bin/env bash
# catalog.sh -- the framework catalogue is data (issue 17 section 3).
# A coach adds a framework with a block in a *.catalog file of the rules
# directory, then a rule and a response set that use it: the set loads,
# `check` passes, replies and /why name the new framework, a response set
# with `framework:` and no `article:` cites the catalogue's article, and
# `locked-after-abuse: yes` keeps it out of a session after an abuse
# disclosure.  A framework no catalogue lists is an error at the rule's
# file:line; a bad catalogue entry is one at its own; a rules directory
# with rules but no catalogue is refused, saying so.
set -u
P=$PUSHPULL
status=0
fail() { echo "FAIL: $*"; status=1; }

# The shipped set plus one framework of the coach's own.
d=$TMPDIR/coach
mkdir -p "$d/rules" "$d/responses"
cp "$SRC"/rules/* "$d/rules/"
cp "$SRC"/responses/* "$d/responses/"
cat >"$d/rules/local.catalog" <<'EOF'
# a framework added by a coach
framework jealousy-loop
  article: The Intimacy-Distance Dance
  source: 003
  role: pursuer
  locked-after-abuse: yes
EOF
cat >"$d/rules/zz-local.rules" <<'EOF'
rule local.jealousy
  role: pursuer
  framework: jealousy-loop
  priority: 99
  match: \bzzjealous\b
  example: I get so zzjealous when he goes out
EOF
cat >"$d/responses/local.responses" <<'EOF'
set jealousy-loop
  framework: jealousy-loop

variant
  JEALOUSY-LOOP reply about {partner}.
EOF

out=$("$P" check --quiet --rules "$d/rules" --responses "$d/responses" 2>&1); rc=$?
[ $rc -eq 0 ] || fail "check refused the coach's framework (rc=$rc): $(head -c 800 <<<"$out")"
# the new framework is counted with the others, in catalogue order
# (frameworks.catalog, then local.catalog)
mkdir -p "$TMPDIR/corpus"
printf 'he pulls away when we get close\tpursuer\tdistance-dance\nI get so zzjealous when he goes out\tpursuer\tjealousy-loop\n' \
    >"$TMPDIR/corpus/local.tsv"
out=$("$P" check --rules "$d/rules" --responses "$d/responses" --corpus "$TMPDIR/corpus" 2>&1)
grep -q '^hits per framework: distance-dance=1 jealousy-loop=1$' <<<"$out" \
    || fail "check: $(grep -e 'hits per' -e 'corpus' <<<"$out")"

out=$(printf 'my husband and I: I get so zzjealous when he goes out\n/why\n' |
      "$P" reply --json --no-state --rules "$d/rules" --responses "$d/responses" 2>&1)
python3 - "$out" <<'PY' || fail "reply with the coach's framework: $out"
import json, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines()]
a, why = lines
assert a["framework"] == "jealousy-loop" and a["rule"] == "local.jealousy", a
assert "JEALOUSY-LOOP reply about your husband." in a["reply"], a
assert a["article"] == "The Intimacy-Distance Dance", a   # from the catalogue
assert "Framework: jealousy-loop." in why["reply"], why
assert 'Source article: "The Intimacy-Distance Dance"' in why["reply"], why
PY

# locked-after-abuse: yes -- after "he hit me" it answers from safety-support
out=$(printf 'he hit me last night\nI get so zzjealous when he goes out\n' |
      "$P" reply --json --no-state --rules "$d/rules" --responses "$d/responses" 2>&1)
python3 - "$out" <<'PY' || fail "a locked coach framework was offered after abuse: $out"
import json, sys
a, b = [json.loads(l) for l in sys.argv[1].splitlines()]
assert a["safety"] is True, a
assert b["framework"] == "safety" and b["set"] == "safety-support", b
assert "JEALOUSY-LOOP" not in b["reply"], b
PY
# ... and with `no` it is offered
sed -i 's/locked-after-abuse: yes/locked-after-abuse: no/' "$d/rules/local.catalog"
out=$(printf 'he hit me last night\nI get so zzjealous when he goes out\n' |
      "$P" reply --json --no-state --rules "$d/rules" --responses "$d/responses" 2>&1)
grep -q '"framework":"jealousy-loop"' <<<"$out" || fail "locked-after-abuse: no still locked: $out"

# a framework no catalogue lists: an error at the rule's file:line
sed -i 's/framework: jealousy-loop$/framework: envy-loop/' "$d/rules/zz-local.rules"
out=$("$P" check --quiet --rules "$d/rules" --responses "$d/responses" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "check accepted an unknown framework (rc=$rc)"
grep -q "zz-local.rules:3: unknown framework 'envy-loop' (not in the framework catalogue" <<<"$out" \
    || fail "no file:line error for the unknown framework: $(head -c 800 <<<"$out")"
# ... in a response set's framework: line too
sed -i 's/framework: envy-loop$/framework: jealousy-loop/' "$d/rules/zz-local.rules"
sed -i 's/^  framework: jealousy-loop$/  framework: envy-loop/' "$d/responses/local.responses"
out=$("$P" check --quiet --rules "$d/rules" --responses "$d/responses" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "local.responses:2: unknown framework 'envy-loop'" <<<"$out" \
    || fail "no file:line error for a set's unknown framework (rc=$rc): $(head -c 800 <<<"$out")"
sed -i 's/^  framework: envy-loop$/  framework: jealousy-loop/' "$d/responses/local.responses"
# ... and in after:
printf 'rule local.after\n  role: none\n  framework: reframe\n  reply: jealousy-loop\n  after: envy-loop\n  match: ^zzafter$\n' \
    >"$d/rules/zz-after.rules"
out=$("$P" check --quiet --rules "$d/rules" --responses "$d/responses" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "zz-after.rules:1: rule local.after: after: 'envy-loop' is neither a set nor a framework" <<<"$out" \
    || fail "after: with an unknown framework (rc=$rc): $(head -c 800 <<<"$out")"
sed -i 's/after: envy-loop/after: jealousy-loop/' "$d/rules/zz-after.rules"
out=$("$P" check --quiet --rules "$d/rules" --responses "$d/responses" 2>&1) \
    || fail "after: naming the coach's framework: $(head -c 800 <<<"$out")"

# a bad catalogue: each fault at its file:line
cat >"$d/rules/local.catalog" <<'EOF'
  article: before any block
framework jealousy-loop
  locked-after-abuse: maybe
  role: pursuer sulker
  colour: blue
framework Bad_Id
framework distance-dance
EOF
out=$("$P" check --quiet --rules "$d/rules" --responses "$d/responses" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "check accepted a bad catalogue (rc=$rc)"
for want in "local.catalog:1: 'article:' outside a framework block" \
            "local.catalog:3: locked-after-abuse: is yes or no, not 'maybe'" \
            "local.catalog:4: unknown role 'sulker'" \
            "local.catalog:5: unknown key 'colour' (article, source, role, locked-after-abuse)" \
            "local.catalog:6: bad framework id 'Bad_Id'" \
            "local.catalog:7: duplicate framework distance-dance (first at $d/rules/frameworks.catalog:"; do
    grep -qF "$want" <<<"$out" || fail "bad catalogue: no '$want' in: $(head -c 1200 <<<"$out")"
done

# no catalogue at all: every rule's framework is refused, saying why
n=$TMPDIR/nocat
mkdir -p "$n"
cp "$SRC"/rules/*.rules "$SRC"/rules/*.lexicon "$n/"
out=$("$P" check --quiet --rules "$n" --responses "$SRC/responses" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "rules without a catalogue loaded (rc=$rc)"
grep -q "safety.rules:[0-9]*: unknown framework 'safety': $n has no \*.catalog file, the framework catalogue" <<<"$out" \
    || fail "no clear error without a catalogue: $(head -c 800 <<<"$out")"
out=$(echo "he pulls away" | "$P" reply --no-state --rules "$n" --responses "$SRC/responses" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "reply served rules without a catalogue (rc=$rc): $out"

exit $status
