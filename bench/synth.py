#!/usr/bin/env python3
"""bench/synth.py -- pushpull's generator of the synthetic scaling workload.

usage: python3 bench/synth.py N [M] [OUTDIR]   (M defaults to 10000, OUTDIR to .)

Two files come out, the same bytes for the same arguments on every run:

  OUTDIR/synth-N.tsv     N triggers, one per line: id TAB pcre2-pattern TAB reply
  OUTDIR/messages-N.txt  M messages, one per line

Triggers cycle through four shapes (exact phrase; phrase then anything;
optional leading word; two-way alternation).  About 80% of the messages are
written to hit exactly one trigger, the rest hit none.  Patterns are meant to
be compiled caseless and tried against the whole message.  Everything is
driven by one seeded PRNG (seed 12345) consumed in a fixed order, which is
what makes the output identical to the neutral copy other engines use.
"""
import os
import random
import sys

SEED = 12345
HIT_SHARE = 0.8


def pattern_for(n):
    """The PCRE2 trigger for rule n: its shape is n modulo 4."""
    shape = n % 4
    if shape == 0:
        return '^hello word%d$' % n
    if shape == 1:
        return '^i like topic%d\\b.*$' % n
    if shape == 2:
        return '^(?:please )?tell me about thing%d$' % n
    return '^(?:what|who) is item%d$' % n


def text_for(n, prng):
    """A message that hits trigger n (shapes 2 and 3 draw one coin)."""
    shape = n % 4
    if shape == 0:
        return 'hello word%d' % n
    if shape == 1:
        return 'i like topic%d very much' % n
    if shape == 2:
        lead = 'please ' if prng.random() < 0.5 else ''
        return lead + 'tell me about thing%d' % n
    asker = 'what' if prng.random() < 0.5 else 'who'
    return asker + ' is item%d' % n


def main(argv):
    if len(argv) < 2:
        sys.stderr.write('usage: synth.py N [M] [OUTDIR]\n')
        return 2
    n_rules = int(argv[1])
    n_msgs = int(argv[2]) if len(argv) > 2 else 10000
    outdir = argv[3] if len(argv) > 3 else '.'
    prng = random.Random(SEED)
    os.makedirs(outdir, exist_ok=True)

    rules_path = os.path.join(outdir, 'synth-%d.tsv' % n_rules)
    with open(rules_path, 'w', newline='\n') as out:
        out.writelines('synth.%d\t%s\treply number %d\n' % (n, pattern_for(n), n)
                       for n in range(n_rules))

    msgs_path = os.path.join(outdir, 'messages-%d.txt' % n_rules)
    with open(msgs_path, 'w', newline='\n') as out:
        for k in range(n_msgs):
            # Order of draws matters: the hit coin first, then the rule
            # number, then whatever coin the chosen shape needs.
            if prng.random() < HIT_SHARE:
                line = text_for(prng.randrange(n_rules), prng)
            else:
                line = 'zzz unmatched sentence %d' % k
            out.write(line + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
