#!/usr/bin/env python3
"""merge-prop.py: ws-merge's no-loss properties over generated merges.

Generates (base, ours, theirs) triples, runs ws-merge -p on them and on
the swapped sides, and checks what must always hold:

  - every word either side inserted is in the output;
  - every base word neither side deleted is in the output;
  - a section neither side changed is base, byte for byte; a section one
    side changed (or both, the same way) is that side, byte for byte;
  - where no conflict block is, the words are exactly base's kept words
    plus both sides' inserted words, each once, in an order that agrees
    with both sides (a clean merge applied both edits, nothing else);
  - a conflict block holds whole text of each side: its ours part is a
    piece of OURS, its theirs part a piece of THEIRS;
  - exit 0 exactly when there is no conflict block, 1 when there is;
  - swapping the sides (and their labels) gives the same output apart
    from the order inside conflict blocks; running twice gives the same
    bytes.

Family "unique": every base word is unique and sections are separated
by unique headings no edit touches, so the checks above are exact.
Family "repeat": a small vocabulary of repeated words and lines (inserted
words stay unique), checked for inserted words, exit status, symmetry.
Files: CRLF, no trailing newline and NUL bytes come up at random.

usage: merge-prop.py [-n cases] [-s seed] [-k dir] ws-merge
Prints one summary line; exit 1 with the failing cases kept in dir.
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

WORD = re.compile(rb'[A-Za-z0-9_\x80-\xff]+')
OL, TL = b'OURS-SIDE', b'THEIRS-SIDE'


class Gen:
    def __init__(self, rnd):
        self.rnd = rnd
        self.n = 0

    def word(self, tag='w'):
        self.n += 1
        return '%s%d' % (tag, self.n)


# A document: list of sections; a section is a heading and a list of
# paragraphs; a paragraph is a list of items (a word with its punctuation).
def make_unique(g):
    r = g.rnd
    doc = []
    for _ in range(r.randint(1, 6)):
        paras = []
        for _ in range(r.randint(1, 3)):
            items = []
            for _ in range(r.randint(1, 4)):
                n = r.randint(1, 7)
                for i in range(n):
                    items.append(g.word() + ('.' if i == n - 1 else
                                             (',' if r.random() < .1 else '')))
            paras.append(items)
        doc.append(paras)
    return doc


VOCAB = ['the', 'a', 'cat', 'sat', 'on', 'mat', 'and', 'of', 'is', 'x']


def make_repeat(g):
    r = g.rnd
    doc = []
    for _ in range(r.randint(1, 4)):
        paras = []
        for _ in range(r.randint(1, 5)):
            if r.random() < .2:
                paras.append([])
                continue
            n = r.randint(1, 6)
            paras.append([r.choice(VOCAB) + ('.' if r.random() < .2 else '')
                          for _ in range(n)])
        doc.append(paras)
    return doc


def edit_section(g, paras, unique):
    """One random edit of a section (a list of paragraphs), in place."""
    r = g.rnd
    k = r.random()
    newword = (lambda: g.word('n'))
    if k < .12 or not paras:
        paras.insert(r.randint(0, len(paras)),
                     [newword() for _ in range(r.randint(1, 5))])
        return
    p = r.randrange(len(paras))
    items = paras[p]
    if k < .2:
        del paras[p]
        return
    if not items:
        items.append(newword())
        return
    i = r.randrange(len(items))
    if k < .5:
        punct = '.' if items[i].endswith('.') else ''
        items[i] = newword() + punct
    elif k < .7:
        for _ in range(r.randint(1, 3)):
            items.insert(r.randint(0, len(items)), newword())
    elif k < .85:
        del items[i:i + r.randint(1, 3)]
    elif unique:
        items[i:i + 2] = [newword() for _ in range(r.randint(1, 3))]
    else:
        j = r.randrange(len(items))
        items[i], items[j] = items[j], items[i]


def copy(doc):
    return [[list(p) for p in s] for s in doc]


class Style:
    def __init__(self, r):
        self.nl = '\r\n' if r.random() < .15 else '\n'
        self.nul = r.random() < .1
        self.noeol = r.random() < .15
        self.blank = r.random() < .3


def render(doc, st, anchors=True):
    out = []
    for k, paras in enumerate(doc):
        if anchors:
            out.append('== Section %d ==' % k + st.nl)
        for items in paras:
            line = ' '.join(items)
            if st.nul and line:
                line = line.replace('.', '.\0', 1)
            out.append(line + st.nl)
            if st.blank:
                out.append(st.nl)
    if st.noeol:
        out.append('the end.')
    return ''.join(out).encode()


def gen_case(rnd):
    g = Gen(rnd)
    unique = rnd.random() < .7
    base = make_unique(g) if unique else make_repeat(g)
    ours, theirs = copy(base), copy(base)
    ops = []
    for k in range(len(base)):
        op = rnd.choice(['none', 'none', 'ours', 'theirs', 'same', 'both',
                         'both', 'both'])
        if op in ('ours', 'both'):
            for _ in range(rnd.randint(1, 3)):
                edit_section(g, ours[k], unique)
        if op in ('theirs', 'both'):
            for _ in range(rnd.randint(1, 3)):
                edit_section(g, theirs[k], unique)
        if op == 'same':
            for _ in range(rnd.randint(1, 2)):
                edit_section(g, ours[k], unique)
            theirs[k] = [list(p) for p in ours[k]]
        if ours[k] == base[k] and theirs[k] == base[k]:
            op = 'none'
        elif ours[k] == theirs[k]:
            op = 'same'
        elif theirs[k] == base[k]:
            op = 'ours'
        elif ours[k] == base[k]:
            op = 'theirs'
        ops.append(op)
    st = Style(rnd)
    return {'unique': unique, 'ops': ops,
            'base': render(base, st), 'ours': render(ours, st),
            'theirs': render(theirs, st)}


BLOCK = re.compile(rb'<<<<<<< ([^\r\n]*)\r?\n(.*?)=======\r?\n(.*?)'
                   rb'>>>>>>> ([^\r\n]*)\r?\n', re.S)


def pieces(out):
    """Split output into [('text', b), ('block', l1, a, b, l2)]."""
    res, pos = [], 0
    for m in BLOCK.finditer(out):
        if m.start() > pos:
            res.append(('text', out[pos:m.start()]))
        res.append(('block', m.group(1), m.group(2), m.group(3), m.group(4)))
        pos = m.end()
    if pos < len(out):
        res.append(('text', out[pos:]))
    return res


def normal(out):
    """Output with the two parts of each conflict block in sorted order."""
    res = []
    for p in pieces(out):
        if p[0] == 'text':
            res.append(p[1])
        else:
            res.append(b'\0BLOCK' + b'\0'.join(sorted([p[1] + b'\0' + p[2],
                                                       p[4] + b'\0' + p[3]])))
    return b''.join(res)


def strip_added_nl(part, side):
    """A block part as it was in the file (ws-merge ends it with a newline)."""
    if part in side:
        return part
    for nl in (b'\r\n', b'\n'):
        if part.endswith(nl) and part[:-len(nl)] in side:
            return part[:-len(nl)]
    return None


def sections(data, nsec, nl_re=rb'\r?\n'):
    """Split text at the section headings: [before, sec0, sec1, ...]."""
    parts = re.split(rb'(?m)^== Section (\d+) ==' + nl_re, data)
    return parts


def words(b):
    return WORD.findall(b)


def agrees(seq, side):
    """seq restricted to side's words equals side restricted to seq's."""
    ss, sd = set(seq), set(side)
    return [w for w in seq if w in sd] == [w for w in side if w in ss]


def check(case, out, rc):
    """A list of what is wrong with this output (empty: all good)."""
    errs = []
    base, ours, theirs = case['base'], case['ours'], case['theirs']
    ps = pieces(out)
    nblocks = sum(1 for p in ps if p[0] == 'block')
    if rc not in (0, 1) or (rc == 1) != (nblocks > 0):
        errs.append('exit %d with %d conflict blocks' % (rc, nblocks))
    for p in ps:
        if p[0] != 'block':
            continue
        if p[1] != OL or p[4] != TL:
            errs.append('block labels %r %r' % (p[1], p[4]))
        if strip_added_nl(p[2], ours) is None:
            errs.append('ours part of a block is not whole text of OURS')
        if strip_added_nl(p[3], theirs) is None:
            errs.append('theirs part of a block is not whole text of THEIRS')
    bw, ow, tw, xw = words(base), words(ours), words(theirs), words(out)
    xs = set(xw)
    sb, so, stt = set(bw), set(ow), set(tw)
    lost = [w for w in (so - sb) | (stt - sb) if w not in xs]
    if lost:
        errs.append('inserted words lost: %r' % sorted(lost)[:5])
    if case['unique']:
        kept = sb & so & stt
        lost = [w for w in kept if w not in xs]
        if lost:
            errs.append('kept base words lost: %r' % sorted(lost)[:5])
        errs += check_sections(case, ps)
    return errs


def check_sections(case, ps):
    errs = []
    # section texts outside blocks; a heading inside a block is an error
    flat = []
    for p in ps:
        if p[0] == 'text':
            flat.append((p[1], False))
        else:
            if re.search(rb'(?m)^== Section \d+ ==', p[2] + p[3]):
                errs.append('a conflict block spans a section heading')
                return errs
            flat.append((b'\0B\0\n', True))
    text = b''.join(t for t, _ in flat)
    blocks = [p for p in ps if p[0] == 'block']
    outs = sections(text, 0)
    bs = sections(case['base'], 0)
    os_ = sections(case['ours'], 0)
    ts = sections(case['theirs'], 0)
    if len(outs) != len(bs):
        return ['%d sections out, %d in base' % (len(outs) // 2,
                                                 len(bs) // 2)]
    bi = 0
    for k, op in enumerate(case['ops']):
        i = 2 + 2 * k
        o, b, u, t = outs[i], bs[i], os_[i], ts[i]
        nb = o.count(b'\0B\0')
        mine = blocks[bi:bi + nb]
        bi += nb
        want = {'none': b, 'ours': u, 'theirs': t, 'same': u}.get(op)
        if want is not None and o != want:
            errs.append('section %d (%s) differs from what it must be'
                        % (k, op))
            continue
        if nb:
            continue
        # a clean section: both edits applied, nothing else
        bw, uw, tw, xw = words(b), words(u), words(t), words(o)
        sb, su, st = set(bw), set(uw), set(tw)
        want = (sb & su & st) | (su - sb) | (st - sb)
        if set(xw) != want or len(xw) != len(set(xw)):
            errs.append('section %d (%s) clean but words %r, not %r'
                        % (k, op, xw, sorted(want)))
        elif not agrees(xw, uw) or not agrees(xw, tw):
            errs.append('section %d (%s) clean but word order disagrees'
                        % (k, op))
    return errs


def run(ws, d, a, b, c, swap=False):
    args = [ws, '-p', '-L', TL if swap else OL, '-L', b'BASE',
            '-L', OL if swap else TL, a, b, c]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-n', type=int, default=2000)
    ap.add_argument('-s', type=int, default=1)
    ap.add_argument('-k', default=None)
    ap.add_argument('ws')
    a = ap.parse_args()
    rnd = random.Random(a.s)
    tmp = tempfile.mkdtemp(prefix='merge-prop.')
    fb, fo, ft = (os.path.join(tmp, n) for n in ('base', 'ours', 'theirs'))
    stats = dict(cases=0, clean=0, conflict=0, blocks=0, unique=0,
                 swapped=0, failed=0)
    for n in range(a.n):
        case = gen_case(rnd)
        for f, k in ((fb, 'base'), (fo, 'ours'), (ft, 'theirs')):
            with open(f, 'wb') as fp:
                fp.write(case[k])
        rc, out, err = run(a.ws, tmp, fb, fo, ft)
        errs = check(case, out, rc)
        if err:
            errs.append('stderr: %r' % err[:200])
        rc2, out2, _ = run(a.ws, tmp, fb, ft, fo, swap=True)
        if rc2 != rc or normal(out2) != normal(out):
            errs.append('swapping the sides changes the merge')
        if n % 10 == 0:
            rc3, out3, _ = run(a.ws, tmp, fb, fo, ft)
            if (rc3, out3) != (rc, out):
                errs.append('two runs differ')
        stats['cases'] += 1
        stats['unique'] += case['unique']
        stats['swapped'] += 1
        stats['clean' if rc == 0 else 'conflict'] += 1
        stats['blocks'] += len(BLOCK.findall(out))
        if errs:
            stats['failed'] += 1
            if a.k:
                d = os.path.join(a.k, 'case%d' % n)
                os.makedirs(d, exist_ok=True)
                for k in ('base', 'ours', 'theirs'):
                    with open(os.path.join(d, k), 'wb') as fp:
                        fp.write(case[k])
                with open(os.path.join(d, 'out'), 'wb') as fp:
                    fp.write(out)
            if stats['failed'] <= 5:
                print('case %d (%s): %s' % (n, ' '.join(case['ops']),
                                            '; '.join(errs)), file=sys.stderr)
    for f in (fb, fo, ft):
        os.unlink(f)
    os.rmdir(tmp)
    print('%(cases)d cases (%(unique)d unique-word), %(clean)d clean, '
          '%(conflict)d with conflicts (%(blocks)d blocks), '
          '%(swapped)d swapped, %(failed)d failed' % stats)
    return 1 if stats['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
