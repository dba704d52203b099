"""``python -m bench.run`` (``make bench``): run every benchmark of ``BENCHMARKS`` in order and
rewrite the section between the markers of docs/PERFORMANCE.md with their results.

``python -m bench.run bench_payments …`` runs only the benchmarks named and replaces only their parts
of the section (each part starts with the benchmark's ``### `` heading, its first line), leaving the
others and the first line (when and where the full run was measured) as they are. A benchmark that
reads ``srpp_bench`` needs ``bench_synth`` to have made it."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import time
from pathlib import Path
from typing import Protocol

from bench import (
    bench_documents,
    bench_load,
    bench_ocds,
    bench_opportunities,
    bench_pages,
    bench_payments,
    bench_synth,
)


class Benchmark(Protocol):
    """A module whose ``run()`` measures something and returns markdown lines, the first a ``### ``
    heading (the only one: it marks the benchmark's part of the results)."""

    __name__: str

    def run(self) -> list[str]: ...


#: in order: bench_synth (re)creates the database the later ones read; bench_documents makes (and drops)
#: a database of its own and starts (and stops) its own Celery workers; bench_payments makes (and drops)
#: a database of its own with 1 000 000 invoices; bench_load builds ``srpp_load`` (the synthetic and the demo
#: region) when it is not there yet and starts (and stops) gunicorn and two Celery workers; bench_ocds makes
#: (and drops) a database of its own per size
BENCHMARKS: list[Benchmark] = [bench_synth, bench_pages, bench_opportunities, bench_documents, bench_payments,
                               bench_load, bench_ocds]

DOC = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SECTION = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return (f"{len(os.sched_getaffinity(0))} CPUs (nproc) × {cpu_model()}, {memory / 2**30:.1f} GiB memory, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def write_section(path: Path, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    if not SECTION.search(text):
        raise SystemExit(f"{path}: the markers {START} … {END} are missing")
    section = "\n".join([START, *lines, END])
    path.write_text(SECTION.sub(lambda _: section, text, count=1), encoding="utf-8")


def replace_parts(path: Path, parts: list[list[str]]) -> None:
    """Put each benchmark's lines in place of the part of the section that starts with the same
    ``### `` heading (up to the next heading or the end marker); a part not there yet is appended."""
    text = path.read_text(encoding="utf-8")
    found = SECTION.search(text)
    if not found:
        raise SystemExit(f"{path}: the markers {START} … {END} are missing")
    chunks: list[list[str]] = [[]]  # the first line, then one chunk per heading
    for line in found.group(0)[len(START):-len(END)].strip("\n").split("\n"):
        if line.startswith("### "):
            chunks.append([])
        chunks[-1].append(line)
    for part in parts:
        if not part or not part[0].startswith("### "):
            raise ValueError("a benchmark's lines start with its ### heading")
        at = next((i for i, chunk in enumerate(chunks) if chunk[0] == part[0]), None)
        if at is None:
            if chunks[-1][-1:] != [""]:
                chunks[-1].append("")
            chunks.append([*part, ""])
        else:
            chunks[at] = [*part, ""]
    section = "\n".join([START, *(line for chunk in chunks for line in chunk), END])
    path.write_text(text[:found.start()] + section + text[found.end():], encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    names = {b.__name__.rsplit(".", 1)[-1]: b for b in BENCHMARKS}
    names.update({name.removeprefix("bench_"): b for name, b in list(names.items())})  # ``load`` = ``bench_load``
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", metavar="BENCHMARK",
                        help=f"run only these ({', '.join(names)}) and replace only their parts of the results")
    args = parser.parse_args(argv)
    unknown = [name for name in args.only if name not in names]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)} (there are {', '.join(names)})")
    if args.only:
        started = time.perf_counter()
        parts = []
        for name in args.only:
            print(f"== {name}", flush=True)
            parts.append(names[name].run())
        replace_parts(DOC, parts)
        print(f"== {DOC}: the parts of {', '.join(args.only)} updated ({time.perf_counter() - started:.0f} s)")
        return
    started = time.perf_counter()
    results: list[str] = []
    for benchmark in BENCHMARKS:
        print(f"== {benchmark.__name__}", flush=True)
        results += ["", *benchmark.run()]
    seconds = time.perf_counter() - started
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_section(DOC, [f"_Measured {when} on {machine()}; the run took {seconds:.0f} s._", *results, ""])
    print(f"== {DOC} updated ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
