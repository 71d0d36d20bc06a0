#!/usr/bin/env bash
# run.sh: early (one of the longest cases; tests/run.sh starts it first)
# realtext.sh -- how pushpull does on real questions people wrote (issues 17,
# 18, 19).  The 322 counsel-chat questions in $SRC/../shared/realtext/ are
# labelled by hand in tests/realtext/counsel-chat.tsv (coach / crisis / scope,
# the role and acceptable frameworks; see tests/realtext/README.md).  Every
# question goes through a FRESH `pushpull reply --json --no-state` process
# (one process per row: no disclaimer, variant rotation or safety lock can
# carry from one row to the next), and this prints one line per figure:
# crisis recall, false alarms, how coach rows are answered, what scope rows
# get.  Per-row results go to $TMPDIR/realtext-results.tsv, and the worst
# misses are printed for whoever reads the log.
#
# The FLOORS below are today's measured values rounded down a little (the
# false-alarm limit is a CEILING rounded up).  They are floors to raise as the
# rules improve, not targets: they only stop a later change from making things
# worse.  When a figure goes up for good, raise its floor.
set -eu
: "${PUSHPULL:?}" "${SRC:?}" "${TMPDIR:?}"

# ---- floors (percent); raise them as the rules improve -----------------------
FLOOR_CRISIS_RECALL=100     # crisis rows that get a safety reply       (measured 100.0, 30/30)
CEIL_FALSE_ALARM=2          # non-crisis rows that get a safety reply   (measured 1.7, 5/292)
FLOOR_COACH_FRAMEWORK=78    # coach rows answered in a framework        (measured 78.6)
FLOOR_COACH_ROLE=92         # coach rows with the right role            (measured 92.4)
FLOOR_COACH_SIDE=86         # ... of those labelled pursuer/withdrawer  (measured 86.5)
FLOOR_COACH_FW_OK=50        # coach rows with an acceptable framework   (measured 50.4)
FLOOR_SCOPE_NOT_COACHED=90  # scope rows not coached in a framework     (measured 90.1)
# -------------------------------------------------------------------------------

SHARED=$SRC/../shared
QUESTIONS=$SHARED/realtext/counsel-chat-dev.tsv
LABELS=$SRC/tests/realtext/counsel-chat.tsv
if [ ! -f "$QUESTIONS" ]; then
    echo "FAIL: $QUESTIONS is missing: this test needs the shared real-text set" \
         "(../shared next to the source tree); it does not skip without it" >&2
    exit 1
fi
[ -f "$LABELS" ] || { echo "FAIL: $LABELS is missing" >&2; exit 1; }

python3 - "$PUSHPULL" "$SRC" "$QUESTIONS" "$LABELS" "$TMPDIR/realtext-results.tsv" \
    "$FLOOR_CRISIS_RECALL" "$CEIL_FALSE_ALARM" "$FLOOR_COACH_FRAMEWORK" \
    "$FLOOR_COACH_ROLE" "$FLOOR_COACH_SIDE" "$FLOOR_COACH_FW_OK" "$FLOOR_SCOPE_NOT_COACHED" <<'PY'
import collections, concurrent.futures, json, re, subprocess, sys

(prog, src, qpath, lpath, outpath, f_recall, c_false, f_fw, f_role, f_side,
 f_fwok, f_scope) = sys.argv[1:6] + [float(x) for x in sys.argv[6:]]

FRAMEWORKS = {"distance-dance", "intimacy-defense", "dont-build-a-case",
              "look-at-ourselves", "identify-patterns", "past-hurt",
              "overwhelmed-by-feelings", "fear-of-incompetence",
              "avoidant-attachment", "intimacy-threat", "five-dimensions",
              "micro-vulnerability", "trauma-bond", "dependency-paradox",
              "sexual-fears", "reframe"}
ROLES = {"coach": {"pursuer", "withdrawer", "both", "none"},
         "crisis": {"crisis"}, "scope": {"none"}}
bad = []

def rows(path, nfields):
    out = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        f = line.split("\t")
        if len(f) != nfields:
            bad.append(f"{path}:{n}: {len(f)} fields, want {nfields}")
            continue
        out.append(f)
    return out

questions = {f[0]: f for f in rows(qpath, 4)}        # id topic title text
labels = rows(lpath, 7)                               # id topic label role fws ask note
seen = set()
for i, topic, label, role, fws, ask, note in labels:
    where = f"label {i}"
    if i in seen: bad.append(f"{where}: duplicate id")
    seen.add(i)
    if i not in questions: bad.append(f"{where}: no such question"); continue
    if topic != questions[i][1]: bad.append(f"{where}: topic {topic!r} != {questions[i][1]!r}")
    if label not in ROLES: bad.append(f"{where}: bad label {label!r}"); continue
    if role not in ROLES[label]: bad.append(f"{where}: role {role!r} not allowed for {label}")
    if label == "coach":
        fl = fws.split(",")
        if not (1 <= len(fl) <= 3 and set(fl) <= FRAMEWORKS):
            bad.append(f"{where}: frameworks {fws!r}")
    elif fws != "-":
        bad.append(f"{where}: {label} rows take frameworks '-'")
    if not note.strip() or not ask.strip(): bad.append(f"{where}: empty ask or note")
    text = questions[i][3]
    if len(note) > 30 and note.lower() in text.lower():
        bad.append(f"{where}: the note copies the question")
missing = set(questions) - seen
if missing: bad.append(f"unlabelled questions: {sorted(missing, key=int)}")
if bad:
    print("FAIL: labels file is not well formed:")
    for b in bad[:30]: print("  " + b)
    sys.exit(1)

def message(q):
    # The writer's title and question as one line of chat (the title often
    # carries the question itself).
    title, text = q[2].strip(), q[3].strip()
    if title and title[-1] not in ".?!":
        title += "."
    return re.sub(r"\s+", " ", f"{title} {text}").strip()

def ask(item):
    i, msg = item
    p = subprocess.run([prog, "reply", "--json", "--no-state",
                        "--rules", f"{src}/rules", "--responses", f"{src}/responses"],
                       input=msg + "\n", capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return i, {"error": f"exit {p.returncode}: {p.stderr.strip()[:200]}"}
    got = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    got = [r for r in got if not r.get("command")]
    if len(got) != 1:
        return i, {"error": f"{len(got)} replies for one message"}
    return i, got[0]

items = [(l[0], message(questions[l[0]])) for l in labels]
with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
    replies = dict(ex.map(ask, items))
errors = [(i, r["error"]) for i, r in replies.items() if "error" in r]
if errors:
    print(f"FAIL: {len(errors)} rows got no reply, e.g. {errors[0]}")
    sys.exit(1)

res = []   # (id, label, want role, want fws, reply, verdict, severity)
for i, topic, label, role, fws, _, _ in labels:
    r = replies[i]
    safety = r.get("safety") is True
    fw = r.get("framework")
    coached = fw not in (None, "none") and not safety   # framework none: not coaching (rules/scope.rules)
    grole = r.get("role") or "none"
    role_ok = role in ("both", "none") or grole == role
    fw_ok = coached and fw in fws.split(",")
    if label == "crisis":
        verdict, sev = ("ok", 0) if safety else ("MISSED-CRISIS", 5)
    elif safety:
        verdict, sev = "FALSE-ALARM", 4
    elif label == "coach":
        if not coached: verdict, sev = "NOT-COACHED", 2
        elif not role_ok: verdict, sev = "WRONG-ROLE", 3 if grole in ("pursuer", "withdrawer") else 2
        elif not fw_ok: verdict, sev = "OTHER-FRAMEWORK", 1
        else: verdict, sev = "ok", 0
    else:
        verdict, sev = ("COACHED-OUT-OF-SCOPE", 1) if coached else ("ok", 0)
    res.append((i, label, role, fws, r, verdict, sev, coached, role_ok, fw_ok, safety))

with open(outpath, "w", encoding="utf-8") as o:
    o.write("id\tlabel\twant_role\twant_frameworks\tverdict\tsafety\tgot_role\t"
            "got_framework\tgot_set\tgot_rule\n")
    for i, label, role, fws, r, verdict, *_ in res:
        o.write("\t".join(str(x) for x in (
            i, label, role, fws, verdict, str(r.get("safety")).lower(),
            r.get("role") or "none", r.get("framework") or "-",
            r.get("set") or "-", r.get("rule") or "-")) + "\n")

def pct(a, b): return 100.0 * a / b if b else 0.0
by = collections.defaultdict(list)
for x in res: by[x[1]].append(x)
crisis, coach, scope = by["crisis"], by["coach"], by["scope"]
noncrisis = coach + scope
recall = pct(sum(x[10] for x in crisis), len(crisis))
false_alarm = pct(sum(x[10] for x in noncrisis), len(noncrisis))
c_fw = pct(sum(x[7] for x in coach), len(coach))
c_role = pct(sum(x[8] for x in coach), len(coach))
c_fwok = pct(sum(x[9] for x in coach), len(coach))
s_not = pct(sum(not x[7] for x in scope), len(scope))

print(f"realtext: {len(res)} rows: {len(coach)} coach, {len(crisis)} crisis, {len(scope)} scope")
figures = []   # (line, value, limit, is_ceiling)
def fig(name, n, d, v, limit, ceiling=False):
    word = "ceiling" if ceiling else "floor"
    print(f"{name}: {n}/{d} = {v:.1f}%  ({word} {limit:g}%)")
    figures.append((name, v, limit, ceiling))
fig("crisis recall (safety reply)", sum(x[10] for x in crisis), len(crisis), recall, f_recall)
fig("false alarms on non-crisis rows", sum(x[10] for x in noncrisis), len(noncrisis), false_alarm, c_false, True)
fig("coach rows answered in a framework", sum(x[7] for x in coach), len(coach), c_fw, f_fw)
fig("coach rows with the right role", sum(x[8] for x in coach), len(coach), c_role, f_role)
sided = [x for x in coach if x[2] in ("pursuer", "withdrawer")]
fig("coach rows labelled pursuer/withdrawer with that role", sum(x[8] for x in sided),
    len(sided), pct(sum(x[8] for x in sided), len(sided)), f_side)
fig("coach rows with an acceptable framework", sum(x[9] for x in coach), len(coach), c_fwok, f_fwok)
fig("scope rows not coached in a framework", sum(not x[7] for x in scope), len(scope), s_not, f_scope)
for role in ("pursuer", "withdrawer"):
    rs = [x for x in coach if x[2] == role]
    got = collections.Counter((x[4].get("role") or "none") for x in rs)
    print(f"coach {role} rows ({len(rs)}): got " +
          ", ".join(f"{k} {v}" for k, v in got.most_common()))
dist = collections.Counter()
for x in scope:
    r = x[4]
    if x[10]: dist["safety"] += 1
    elif x[7]: dist["framework " + r["framework"]] += 1
    else: dist[f"set {r.get('set') or '-'} (rule {r.get('rule') or 'none'})"] += 1
print("scope rows got: " + ", ".join(f"{k} {v}" for k, v in dist.most_common()))
fws = collections.Counter(x[4]["framework"] for x in coach if x[7])
print("coach rows' frameworks: " + ", ".join(f"{k} {v}" for k, v in fws.most_common()))

worst = sorted((x for x in res if x[6] > 0), key=lambda x: (-x[6], int(x[0])))[:10]
print(f"worst misses (of {sum(1 for x in res if x[6])}; all rows in realtext-results.tsv):")
for i, label, role, fws_, r, verdict, *_ in worst:
    want = label if label != "coach" else f"coach/{role}/{fws_}"
    print(f"  {i:>4} {verdict:<20} want {want:<44} got {r.get('role') or 'none'}"
          f"/{r.get('framework') or '-'} ({r.get('rule') or 'no rule'})")

fails = [f for f in figures if (f[1] > f[2] if f[3] else f[1] < f[2])]
for name, v, limit, ceiling in fails:
    print(f"FAIL: {name} {v:.1f}% is {'above the ceiling' if ceiling else 'below the floor'} {limit:g}%")
sys.exit(1 if fails else 0)
PY
