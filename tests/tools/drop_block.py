#!/usr/bin/env python3
"""drop_block.py FILE START END -- remove from FILE the text from the first
line holding START up to (not including) the first line after it holding
END: how a test takes one set out of a copy of a responses file ("set
telegram.menu" up to the next section).  Exits 1 when either is missing."""
import sys

path, start, end = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
a = text.index(start)
b = text.index(end, a + len(start))
open(path, "w", encoding="utf-8").write(text[:a] + text[b:])
