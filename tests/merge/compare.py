#!/usr/bin/env python3
"""compare.py: ws-merge against git merge-file -p and diff3 -m.

Runs the three on the same corpus: generated merges (merge-prop.py's
generator) and edited variants of real wikitext (the Wikipedia articles
MediaWiki ships as test data, or any files named with -r).  For every
case it sorts the outcome:

  same      both clean, same bytes
  blank     both clean, same bytes once blank lines are left out
  differ    both clean, different bytes            (must not happen)
  theyonly  they clean, ws-merge conflicts         (must not happen)
  wsonly    ws-merge clean, they conflict          (checked: no loss)
  both      both conflict

Principled exceptions, counted on their own and not failures:
  - "blank": where a side's diff can line up repeated blank lines in more
    than one way, ws-merge (patience anchors, then Myers) and git or
    diff3 (Myers) may put a blank line on either side of an inserted line.
  - diff3 -m brackets a change both sides made the same way as a
    conflict; git and ws-merge take it once.  A case where diff3
    conflicts only for that is "wsonly" and checked like the others.
  - changes to adjacent lines, or to different words of one line, are
    conflicts for git and diff3 and clean merges here: "wsonly".

Every wsonly case (and every clean ws-merge result on real text) is
checked: unique words either side inserted are there once, each word
occurs as often as base plus both sides' changes say, the ws-merge
properties of merge-prop.py hold on generated cases.

usage: compare.py [-n cases] [-s seed] [-v] [-r file]... ws-merge
Prints a summary; exit 1 when a "differ" or "theyonly" case or a failed
check shows up (listed on stderr, kept under -k dir).
"""
import argparse
import collections
import glob
import importlib.util
import os
import random
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    'mergeprop', os.path.join(HERE, '..', 'merge-prop.py'))
mp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mp)

REAL = '/usr/share/mediawiki/vendor/wikimedia/utfnormal/scripts/testdata/*.txt'
WORD = re.compile(rb'[A-Za-z0-9_\x80-\xff]+')


def edit_real(lines, rnd, tag, nedits):
    """Random edits of a list of lines; inserted words are unique."""
    lines = list(lines)
    cnt = [0]

    def new():
        cnt[0] += 1
        return b'%s%dq' % (tag, cnt[0])
    for _ in range(nedits):
        if not lines:
            lines.append(new() + b'\n')
            continue
        i = rnd.randrange(len(lines))
        k = rnd.random()
        words = lines[i].split(b' ')
        if k < .1:
            lines.insert(i, new() + b' ' + new() + b'\n')
        elif k < .17:
            del lines[i]
        elif k < .55:
            j = rnd.randrange(len(words))
            nl = words[j].endswith(b'\n')
            words[j] = new() + (b'\n' if nl else b'')
            lines[i] = b' '.join(words)
        elif k < .8:
            j = rnd.randrange(len(words))
            words.insert(j, new())
            lines[i] = b' '.join(words)
        elif len(words) > 2:
            j = rnd.randrange(len(words) - 1)
            del words[j]
            lines[i] = b' '.join(words)
    return lines


def real_cases(files, rnd, n):
    texts = []
    for f in files:
        with open(f, 'rb') as fp:
            texts.append(fp.read())
    for _ in range(n):
        text = rnd.choice(texts)
        lines = text.splitlines(keepends=True)
        # a window of the article, so edits come close to each other
        if rnd.random() < .6 and len(lines) > 40:
            a = rnd.randrange(len(lines) - 30)
            lines = lines[a:a + rnd.randint(10, 60)]
        dens = rnd.choice([1, 2, 4, 8, 20])
        ours = edit_real(lines, rnd, b'o', rnd.randint(1, dens))
        theirs = edit_real(lines, rnd, b't', rnd.randint(1, dens))
        if rnd.random() < .1:
            theirs = edit_real(ours, rnd, b't', 1)
        yield {'real': True, 'base': b''.join(lines), 'ours': b''.join(ours),
               'theirs': b''.join(theirs)}


def gen_cases(rnd, n):
    for _ in range(n):
        c = mp.gen_case(rnd)
        c['real'] = False
        yield c


def words_ok(case, out):
    """Word counts of a clean merge against base and both sides."""
    errs = []
    b, o, t, x = [collections.Counter(WORD.findall(s)) for s in
                  (case['base'], case['ours'], case['theirs'], out)]
    for w in set(b) | set(o) | set(t) | set(x):
        bo, oo, to = b[w], o[w], t[w]
        lo = oo + to - bo - max(0, min(oo - bo, to - bo))
        hi = oo + to - bo + max(0, min(bo - oo, bo - to))
        if not lo <= x[w] <= hi:
            errs.append('word %r: %d in output, base %d ours %d theirs %d'
                        % (w, x[w], bo, oo, to))
            break
    return errs


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-n', type=int, default=500)
    ap.add_argument('-s', type=int, default=1)
    ap.add_argument('-r', action='append', default=None)
    ap.add_argument('-k', default=None)
    ap.add_argument('-v', action='store_true')
    ap.add_argument('ws')
    a = ap.parse_args()
    real = a.r if a.r is not None else sorted(glob.glob(REAL))
    if not real:
        print('compare.py: no real wikitext (%s)' % REAL, file=sys.stderr)
        return 2
    rnd = random.Random(a.s)
    tmp = tempfile.mkdtemp(prefix='merge-cmp.')
    fb, fo, ft = (os.path.join(tmp, n) for n in ('base', 'ours', 'theirs'))
    tools = ('git', 'diff3')
    stats = {(src, tool): collections.Counter()
             for src in ('generated', 'real') for tool in tools}
    failed = 0
    cases = list(gen_cases(rnd, a.n)) + list(real_cases(real, rnd, a.n))
    for n, case in enumerate(cases):
        src = 'real' if case['real'] else 'generated'
        for f, k in ((fb, 'base'), (fo, 'ours'), (ft, 'theirs')):
            with open(f, 'wb') as fp:
                fp.write(case[k])
        wrc, wout = run([a.ws, '-p', '-L', mp.OL, '-L', 'BASE', '-L', mp.TL,
                         fb, fo, ft])
        errs = []
        if wrc == 0:
            if case['real']:
                errs += words_ok(case, wout)
            else:
                errs += mp.check(case, wout, wrc)
        elif wrc == 1:
            errs += mp.check(case, wout, wrc) if not case['real'] else []
        else:
            errs.append('ws-merge exit %d' % wrc)
        res = {
            'git': run(['git', 'merge-file', '-p', fo, fb, ft]),
            'diff3': run(['diff3', '-m', fo, fb, ft]),
        }
        for tool in tools:
            rc, out = res[tool]
            st = stats[(src, tool)]
            st['cases'] += 1
            if rc == 0 and wrc == 0:
                kind = 'same' if out == wout else 'differ'
                if kind == 'differ' and noblank(out) == noblank(wout):
                    kind = 'blank'
            elif rc == 0:
                kind = 'theyonly'
            elif wrc == 0:
                kind = 'wsonly'
            else:
                kind = 'both'
            st[kind] += 1
            if tool == 'diff3' and kind == 'wsonly' and \
                    git_clean_same(res['git'], wout):
                st['diff3-equal-changes'] += 1
            if kind in ('differ', 'theyonly'):
                errs.append('%s: %s' % (tool, kind))
        if errs:
            failed += 1
            if a.k:
                d = os.path.join(a.k, 'case%d' % n)
                os.makedirs(d, exist_ok=True)
                for k in ('base', 'ours', 'theirs'):
                    with open(os.path.join(d, k), 'wb') as fp:
                        fp.write(case[k])
                with open(os.path.join(d, 'out'), 'wb') as fp:
                    fp.write(wout)
            if failed <= 10:
                print('case %d (%s): %s' % (n, src, '; '.join(errs)),
                      file=sys.stderr)
    for f in (fb, fo, ft):
        os.unlink(f)
    os.rmdir(tmp)
    for (src, tool), st in stats.items():
        print('%s vs %s: %d cases, %d both clean and equal, %d both clean '
              'but different, %d equal but for blank lines, %d clean only '
              'for %s, %d clean only for ws-merge (%d of them diff3 -m on '
              'equal changes), %d conflict in both'
              % (src, tool, st['cases'], st['same'], st['differ'],
                 st['blank'], st['theyonly'], tool, st['wsonly'],
                 st['diff3-equal-changes'], st['both']))
    for src in ('generated', 'real'):
        g, d = stats[(src, 'git')], stats[(src, 'diff3')]
        ws = g['cases'] - g['same'] - g['differ'] - g['blank'] - g['wsonly']
        print('%s: conflicts in %d of %d cases for ws-merge, %d for git '
              'merge-file, %d for diff3 -m'
              % (src, ws, g['cases'], g['wsonly'] + g['both'],
                 d['wsonly'] + d['both']))
    print('%d cases with a failed check' % failed)
    return 1 if failed else 0


def noblank(b):
    """The text without its blank lines."""
    return b''.join(l for l in b.splitlines(keepends=True) if l.strip())


def git_clean_same(gitres, wout):
    """diff3 conflicted where git merged cleanly to our bytes."""
    return gitres[0] == 0 and gitres[1] == wout


if __name__ == '__main__':
    sys.exit(main())
