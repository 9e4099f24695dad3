#!/usr/bin/env python3
"""Knowledge-base scale: retrieval latency at 100 000 chunks in one company, and ingest time
for a 1 MB Markdown document, on SQLite and PostgreSQL, against a fresh release server each.

    python3 bench/knowledge_latency.py [--bin PATH] [--chunks N] [--queries N]
                                       [--backends sqlite,postgres] [--postgres-url ADMIN_URL]

The text is Markdown made from the Rust book's own words (read from the toolchain at run time),
drawn with their frequencies in the book, so common words are common, in sections of a few
paragraphs under headings. Documents of ~2 MB are upserted through the API until the company
holds N chunks (default 100 000). Then:

- ingest: a 1 MB Markdown document created, then replaced (upsert), through the API; the
  wall time of each request (extraction, chunking, indexing, commit), 3 times each;
- retrieval: GET /knowledge/search?limit=5&agent_id=… for questions of 3 to 10 words drawn
  the same way, one at a time, after 20 warm-up queries; p50/p90/p99/max of the wall time
  seen by the client (HTTP on loopback included).

Goals (docs/API.md): p99 <= 20 ms at 100 000 chunks, ingest <= 1 s. Prints one table.
"""
import argparse
import collections
import os
import random
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the repository's bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kb_server  # noqa: E402

MB = 1_000_000


def vocabulary(book):
    """The book's words and their counts (its prose, not its markup)."""
    counts = collections.Counter()
    for name in os.listdir(book):
        if name.startswith("ch") and name.endswith(".html"):
            raw = open(os.path.join(book, name), encoding="utf-8").read()
            main = raw.split("<main>", 1)[-1].split("</main>", 1)[0]
            text = re.sub(r"<[^>]+>", " ", main)
            counts.update(w for w in re.findall(r"[A-Za-z][a-z']+", text) if len(w) < 20)
    words = list(counts)
    return words, [counts[w] for w in words]


class Text:
    def __init__(self, words, weights, seed):
        self.rng = random.Random(seed)
        self.words, self.weights = words, weights

    def sentence(self):
        n = self.rng.randint(6, 22)
        w = self.rng.choices(self.words, self.weights, k=n)
        return (" ".join(w)).capitalize() + "."

    def markdown(self, size, title):
        out, length, section = [f"# {title}\n"], 0, 0
        while length < size:
            section += 1
            out.append(f"\n## {' '.join(self.rng.choices(self.words, self.weights, k=3)).title()} {section}\n")
            for _ in range(self.rng.randint(2, 5)):
                para = " ".join(self.sentence() for _ in range(self.rng.randint(3, 8)))
                out.append("\n" + para + "\n")
                length += len(para) + 1
        return "".join(out)

    def question(self):
        return " ".join(self.rng.choices(self.words, self.weights, k=self.rng.randint(3, 10)))


def pct(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100 * (len(sorted_ms) - 1))))]


def measure(label, binary, port, database_url, text, args):
    with kb_server.Server(binary, port, database_url) as server:
        api = server.api
        chunks, n, started = 0, 0, time.time()
        while chunks < args.chunks:
            n += 1
            doc = api.upsert(f"load/{n}", {"title": f"Manual {n}", "content": text.markdown(2 * MB - 60_000, f"Manual {n}"),
                                           "content_type": "text/markdown"})
            chunks += doc["chunk_count"]
            print(f"  {label}: {chunks} chunks in {n} documents ({time.time() - started:.0f} s)", file=sys.stderr)
        load_s = time.time() - started
        one_mb = text.markdown(MB, "Big manual")
        create, replace = [], []
        for i in range(3):
            t = time.perf_counter()
            api.upsert(f"ingest/{i}", {"title": "Big manual", "content": one_mb, "content_type": "text/markdown"})
            create.append(time.perf_counter() - t)
            t = time.perf_counter()
            api.upsert(f"ingest/{i}", {"title": "Big manual", "content": one_mb, "content_type": "text/markdown"})
            replace.append(time.perf_counter() - t)
        questions = [text.question() for _ in range(args.queries + 20)]
        for q in questions[:20]:
            api.search(q, 5, server.agent)
        times, empty = [], 0
        for q in questions[20:]:
            t = time.perf_counter()
            hits = api.search(q, 5, server.agent)
            times.append((time.perf_counter() - t) * 1000)
            empty += not hits
        times.sort()
        return {"label": label, "chunks": chunks, "docs": n, "load_s": load_s,
                "create": sorted(create), "replace": sorted(replace), "ms": times, "empty": empty,
                "one_mb_chars": len(one_mb)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", help="performchat binary (default target/release, else target/debug)")
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--postgres-url", default=os.environ.get("PERFORMCHAT_BENCH_POSTGRES_URL",
                                                             "postgres://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--port", type=int, default=19520)
    args = ap.parse_args()
    binary = args.bin or kb_server.default_bin()
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
    words, weights = vocabulary(os.path.join(sysroot, "share", "doc", "rust", "html", "book"))
    results = []
    for backend in args.backends.split(","):
        text = Text(words, weights, seed=42)
        if backend == "sqlite":
            results.append(measure("SQLite", binary, args.port, None, text, args))
        elif backend == "postgres":
            db = f"pc_kb_bench_{os.getpid()}"
            subprocess.run(["psql", args.postgres_url, "-qc", f"CREATE DATABASE {db}"], check=True)
            try:
                url = args.postgres_url.rsplit("/", 1)[0] + "/" + db
                results.append(measure("PostgreSQL", binary, args.port + 1, url, text, args))
            finally:
                subprocess.run(["psql", args.postgres_url, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"])
        else:
            sys.exit(f"unknown backend {backend}")
    print(f"binary: {binary}")
    print(f"{'backend':<11}{'chunks':>8}{'load':>8}  {'search p50':>10}{'p90':>7}{'p99':>7}{'max':>7}"
          f"  {'1 MB create':>11}{'replace':>9}  (queries, no hit)")
    for r in results:
        ms = r["ms"]
        print(f"{r['label']:<11}{r['chunks']:>8}{r['load_s']:>7.0f}s  {pct(ms, 50):>8.1f}ms{pct(ms, 90):>7.1f}"
              f"{pct(ms, 99):>7.1f}{ms[-1]:>7.1f}  {r['create'][1]:>10.2f}s{r['replace'][1]:>8.2f}s"
              f"  ({len(ms)}, {r['empty']})")
    print("ingest: median of 3 of a", f"{results[0]['one_mb_chars'] / MB:.2f} MB Markdown document" if results else "")


if __name__ == "__main__":
    main()
