#!/usr/bin/env python3
"""Retrieval quality of /knowledge/search on a documentation set we did not write.

    python3 bench/knowledge_quality.py [--bin PATH] [--port N] [--book DIR]

Reads "The Rust Programming Language" from the Rust toolchain's offline docs
($(rustc --print sysroot)/share/doc/rust/html/book/, HTML; never copied into this repository),
syncs its chapters into a fresh server (or the one of PERFORMCHAT_URL / PERFORMCHAT_KEY_ID /
PERFORMCHAT_KEY_SECRET) through the documents API, asks the questions below, each with the
page(s) that answer it, and prints recall@5 and MRR (over distinct pages, best 10) for:

- ours: GET /knowledge/search (the ranking a reply uses), and
- a baseline: plain BM25 (rank-bm25's BM25Okapi, lower-cased word tokens, no stemming, no stop
  words) over fixed windows of 200 words, 100 apart, of the same pages' text (script, style, nav,
  header and footer dropped, as the server does), a page ranked by its best window.

rank-bm25 is installed, pinned, into target/bench-venv on first run.
"""
import argparse
import html
import html.parser
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository's bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kb_server  # noqa: E402

kb_server.ensure_venv("rank_bm25")
from rank_bm25 import BM25Okapi  # noqa: E402

# A user's questions, in a user's words, each with the page(s) of the book that answer it.
QUESTIONS = [
    ("How do I install Rust on Linux?", ["ch01-01-installation"]),
    ("How do I make a variable that I can change later?", ["ch03-01-variables-and-mutability"]),
    ("What is the difference between a constant and an immutable variable?", ["ch03-01-variables-and-mutability"]),
    ("What happens when an integer overflows?", ["ch03-02-data-types"]),
    ("How do I return a value from a function?", ["ch03-03-how-functions-work"]),
    ("How can I loop over the elements of an array?", ["ch03-05-control-flow"]),
    ("Why can't I use my String after assigning it to another variable?", ["ch04-01-what-is-ownership"]),
    ("Can I have two mutable references to the same value at once?", ["ch04-02-references-and-borrowing"]),
    ("How do I get part of a string without copying it?", ["ch04-03-slices"]),
    ("How do I print a struct for debugging?", ["ch05-02-example-structs", "appendix-03-derivable-traits"]),
    ("How do I define a method on a struct?", ["ch05-03-method-syntax"]),
    ("Why is there no null, and what is Option for?", ["ch06-01-defining-an-enum"]),
    ("What happens if my match does not handle every case?", ["ch06-02-match"]),
    ("How do I split my code into several files?", ["ch07-05-separating-modules-into-different-files"]),
    ("How do I make a function inside a module public?", ["ch07-03-paths-for-referring-to-an-item-in-the-module-tree",
                                                        "ch07-02-defining-modules-to-control-scope-and-privacy"]),
    ("Why can't I index into a String to get a character?", ["ch08-02-strings"]),
    ("How do I count how many times each word appears in a text?", ["ch08-03-hash-maps"]),
    ("How do I read an element of a vector without panicking when the index is too big?", ["ch08-01-vectors"]),
    ("How do I get a backtrace when my program panics?", ["ch09-01-unrecoverable-errors-with-panic"]),
    ("What does the question mark operator do?", ["ch09-02-recoverable-errors-with-result"]),
    ("When should my code return an error instead of panicking?", ["ch09-03-to-panic-or-not-to-panic"]),
    ("How do I write one function that works for many types?", ["ch10-01-syntax"]),
    ("How do I give a trait method a default implementation?", ["ch10-02-traits"]),
    ("What does the error missing lifetime specifier mean?", ["ch10-03-lifetime-syntax"]),
    ("How do I check in a test that my code panics?", ["ch11-01-writing-tests"]),
    ("How do I run only one test?", ["ch11-02-running-tests"]),
    ("Where do integration tests go?", ["ch11-03-test-organization"]),
    ("How do I read command line arguments?", ["ch12-01-accepting-command-line-arguments"]),
    ("How do I print error messages to stderr instead of stdout?", ["ch12-06-writing-to-stderr-instead-of-stdout"]),
    ("How do closures capture variables from their environment?", ["ch13-01-closures"]),
    ("Are iterators slower than for loops?", ["ch13-04-performance"]),
    ("How do I publish my crate so others can use it?", ["ch14-02-publishing-to-crates-io"]),
    ("How do I change the optimization level of release builds?", ["ch14-01-release-profiles"]),
    ("How can one value have several owners?", ["ch15-04-rc"]),
    ("How can I mutate data behind an immutable reference?", ["ch15-05-interior-mutability"]),
    ("How do I wait for a spawned thread to finish?", ["ch16-01-threads"]),
    ("How do I send data from one thread to another?", ["ch16-02-message-passing"]),
    ("How do I share a counter between threads safely?", ["ch16-03-shared-state"]),
    ("How do I run two futures at the same time?", ["ch17-02-concurrency-with-async", "ch17-03-more-futures"]),
    ("How do I keep values of different types that implement the same trait in one vector?",
     ["ch18-02-trait-objects"]),
    ("How do I dereference a raw pointer?", ["ch20-01-unsafe-rust"]),
    ("What is a type alias for?", ["ch20-03-advanced-types"]),
    ("How do I write my own macro?", ["ch20-05-macros"]),
    ("How do I make my web server handle several requests at once with a thread pool?", ["ch21-02-multithreaded"]),
    ("Which words are reserved keywords?", ["appendix-01-keywords"]),
    ("How do I format my code automatically?", ["appendix-04-useful-development-tools"]),
    ("How do I match a range of values in a pattern?", ["ch19-03-pattern-syntax"]),
]

DROPPED = {"script", "style", "nav", "header", "footer", "template", "noscript"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class TextOf(html.parser.HTMLParser):
    """The page's text, with the parts the server drops left out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in DROPPED:
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in DROPPED and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def book_dir(given):
    if given:
        return given
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(sysroot, "share", "doc", "rust", "html", "book")


def pages(book):
    """The book's chapters: every chNN/appendix page with content (not the old-numbering redirects)."""
    out = {}
    for name in sorted(os.listdir(book)):
        if not re.match(r"(ch\d\d|appendix)-.*\.html$", name):
            continue
        raw = open(os.path.join(book, name), encoding="utf-8").read()
        if "<main>" not in raw or 'http-equiv="refresh"' in raw:
            continue
        m = re.search(r"<title>(.*?)</title>", raw, re.S)
        title = html.unescape(m.group(1)).replace(" - The Rust Programming Language", "").strip() if m else name
        parser = TextOf()
        parser.feed(raw)
        out[name[:-5]] = {"file": name, "title": title, "html": raw, "text": " ".join(parser.parts)}
    return out


def words(text):
    return re.findall(r"\w+", text.lower())


def baseline(docs, size=200, stride=100):
    windows, owner = [], []
    for page, d in docs.items():
        w = words(d["text"])
        for start in range(0, max(len(w) - size, 0) + 1, stride):
            windows.append(w[start:start + size])
            owner.append(page)
    bm25 = BM25Okapi(windows)

    def rank(question):
        scores = bm25.get_scores(words(question))
        order = sorted(range(len(windows)), key=lambda i: -scores[i])
        return distinct(owner[i] for i in order if scores[i] > 0)
    return rank


def distinct(pages_in_order, n=10):
    out = []
    for p in pages_in_order:
        if p not in out:
            out.append(p)
            if len(out) == n:
                break
    return out


def score(ranked, answers):
    first = next((i for i, p in enumerate(ranked) if p in answers), None)
    return (first is not None and first < 5), (0.0 if first is None else 1.0 / (first + 1)), first


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", help="performchat binary (default target/release, else target/debug)")
    ap.add_argument("--port", type=int, default=19510)
    ap.add_argument("--book", help="the book's HTML folder (default: the toolchain's)")
    args = ap.parse_args()
    docs = pages(book_dir(args.book))
    missing = {p for _, ps in QUESTIONS for p in ps} - set(docs)
    if missing:
        sys.exit(f"answer pages missing from this edition of the book: {sorted(missing)}")
    print(f"{len(docs)} pages, {len(QUESTIONS)} questions", file=sys.stderr)

    server = None
    api = kb_server.existing_server()
    if api is None:
        server = kb_server.Server(args.bin or kb_server.default_bin(), args.port)
        api = server.api
    try:
        by_id = {}
        for page, d in docs.items():
            doc = api.upsert(f"rust-book/{d['file']}", {
                "title": d["title"], "content": d["html"], "content_type": "text/html",
                "url": f"https://doc.rust-lang.org/book/{d['file']}"})
            by_id[doc["id"]] = page
        base_rank = baseline(docs)
        rows, totals = [], {"ours": [0, 0.0], "bm25": [0, 0.0]}
        for q, answers in QUESTIONS:
            hits = api.search(q, 20)
            ours = distinct(by_id.get(h["document_id"], "?") for h in hits)
            theirs = base_rank(q)
            line = [q]
            for label, ranked in (("ours", ours), ("bm25", theirs)):
                hit, rr, first = score(ranked, answers)
                totals[label][0] += hit
                totals[label][1] += rr
                line.append("-" if first is None else str(first + 1))
            if line[1] != "1":
                line.append(f"ours: {', '.join(ours[:3])}")
            rows.append(line)
    finally:
        if server:
            server.stop()

    n = len(QUESTIONS)
    print(f"{'rank ours':>9} {'rank bm25':>9}  question")
    for r in rows:
        print(f"{r[1]:>9} {r[2]:>9}  {r[0]}" + (f"   [{r[3]}]" if len(r) > 3 else ""))
    print()
    print(f"{'':<34}{'recall@5':>9}{'MRR':>8}")
    for label, name in (("ours", "performchat /knowledge/search"), ("bm25", "BM25 over 200-word windows")):
        print(f"{name:<34}{totals[label][0] / n:>9.3f}{totals[label][1] / n:>8.3f}")


if __name__ == "__main__":
    main()
