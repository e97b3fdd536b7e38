#!/usr/bin/env python3
"""Summarises `perf script` output (call stacks with inlined frames) of a
server under load: the hottest functions, and who the time belongs to.

    perf script -F comm,ip,sym,dso | python3 profile_attribute.py [TOP]

Each sample is charged three ways:

- leaf: the innermost function (inlined frames included), as `perf report
  --no-children` would show it;
- owner: the crate of the innermost frame that belongs to a named crate
  (h2, gust, tokio, http, bytes, ...). Frames of the allocator, libc,
  the kernel and Rust's generic std/core/alloc code are skipped, so a
  `memmove` or `malloc` is charged to the crate that asked for it. Kernel
  time is counted apart when the sample is in the kernel;
- inclusive: every gust function on the stack, once per sample.
"""

import collections
import re
import sys

# Crates whose code is generic plumbing: their frames are charged upwards.
GENERIC = {"core", "alloc", "std", "hashbrown", "__rust", "[unknown]", "panic_unwind"}
# Our own code, for the "gust's own code" view.
OURS = {"gust", "gust_benches"}
# Helper crates charged to whoever calls them in the "by layer" view: http
# and bytes are used by h2 and gust alike, slab and indexmap by h2 and tokio.
HELPERS = {"http", "bytes", "slab", "indexmap", "fnv", "itoa", "tracing", "tracing_core", "__rustc", "futures_util",
           "futures_core", "pin_project_lite"}
# Leaf functions whose callers are worth listing.
LIBC_HOT = re.compile(r"(__mem(move|cpy|set|cmp)|_int_malloc|_int_free|malloc|free|cfree|unlink_chunk)")


def crate_of(symbol):
    """The crate a demangled Rust symbol belongs to, or None."""
    symbol = symbol.lstrip("<&* ")
    if symbol.startswith("dyn "):
        symbol = symbol[4:]
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", symbol)
    return match.group(1) if match else None


def read_samples(lines):
    """Yields each sample's frames, innermost first, as (symbol, dso)."""
    sample = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.startswith(("\t", " ")):
            # A header line (the thread's name) or a blank line ends a sample.
            if sample:
                yield sample
            sample = []
            continue
        parts = line.strip().split(" ", 1)
        if len(parts) < 2:
            continue
        rest = parts[1]
        dso_match = re.search(r" \(([^()]*)\)$", rest)
        dso = dso_match.group(1) if dso_match else ""
        symbol = rest[: dso_match.start()] if dso_match else rest
        symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol.replace(" (inlined)", ""))
        sample.append((symbol, dso))
    if sample:
        yield sample


def simplify(symbol):
    """Drops generic arguments so that instances of one function add up."""
    previous = None
    while previous != symbol:
        previous = symbol
        symbol = re.sub(r"<[^<>]*>(?=::|$| )", "", symbol) if symbol.count("<") > 1 else symbol
    return symbol


def main():
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    leaf = collections.Counter()
    owner = collections.Counter()
    layer = collections.Counter()
    libc_callers = collections.Counter()
    gust_self = collections.Counter()
    inclusive = collections.Counter()
    kernel = 0
    allocator = 0
    total = 0
    for sample in read_samples(sys.stdin):
        total += 1
        symbol, dso = sample[0]
        leaf[symbol] += 1
        in_kernel = "kernel" in dso
        kernel += in_kernel
        if re.match(r"(_int_|__libc_|malloc|free|cfree|realloc|calloc|unlink_chunk|__memmove|__memcpy|__memset)", symbol):
            allocator += symbol.startswith(("_int_", "malloc", "free", "cfree", "realloc", "calloc", "unlink_chunk", "__libc_"))
        charged = None
        for frame, frame_dso in sample:
            if "kernel" in frame_dso or frame_dso.endswith(".so.6") or "libc" in frame_dso:
                continue
            crate = crate_of(frame)
            if crate and crate not in GENERIC:
                charged = crate
                break
        key = ("kernel, under " if in_kernel else "") + (charged or "other")
        owner[key] += 1
        charged_layer = None
        for frame, frame_dso in sample:
            if "kernel" in frame_dso or frame_dso.endswith(".so.6") or "libc" in frame_dso:
                continue
            crate = crate_of(frame)
            if crate and crate not in GENERIC and crate not in HELPERS:
                charged_layer = {"mio": "tokio", "tokio_util": "tokio", "gust_benches": "gust", "prost": "gust"}.get(
                    crate, crate
                )
                if charged_layer.startswith("bench_"):
                    charged_layer = "gust"
                break
        layer[("kernel" if in_kernel else "user") + " " + (charged_layer or "other")] += 1
        if charged_layer == "gust":
            innermost = next((f for f, _ in sample if crate_of(f) in OURS or crate_of(f) == "prost"), "?")
            gust_self[simplify(innermost)] += 1
        if LIBC_HOT.match(symbol):
            caller = next(
                (f for f, d in sample if crate_of(f) and crate_of(f) not in GENERIC | {"__rustc"}),
                "?",
            )
            libc_callers[(symbol.split("_avx")[0].split("_evex")[0], simplify(caller))] += 1
        seen = set()
        for frame, _ in sample:
            if crate_of(frame) in OURS:
                name = simplify(frame)
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += 1

    if total == 0:
        print("no samples")
        return
    pct = lambda n: f"{100.0 * n / total:5.1f}%"
    print(f"{total} samples\n")
    print(f"Top {top} functions by self time (innermost frame, inlined frames included):\n")
    for symbol, count in leaf.most_common(top):
        print(f"  {pct(count)}  {symbol[:140]}")
    print("\nSelf time by crate (allocator, memcpy and libc charged to the Rust caller; kernel apart):\n")
    by_crate = collections.Counter()
    for key, count in owner.items():
        by_crate[key.replace("kernel, under ", "")] += count
    for key, count in by_crate.most_common():
        in_k = owner.get("kernel, under " + key, 0)
        print(f"  {pct(count)}  {key:<14} (of which kernel {pct(in_k).strip()})")
    print(f"\n  kernel in all: {pct(kernel).strip()}; malloc/free in all: {pct(allocator).strip()}")
    print("\nBy layer (helper crates http, bytes, slab, ... charged to their caller too):\n")
    layers = collections.Counter()
    for key, count in layer.items():
        layers[key.split(" ", 1)[1]] += count
    for key, count in layers.most_common():
        print(f"  {pct(count)}  {key:<10} (user {pct(layer.get('user ' + key, 0)).strip()}, kernel {pct(layer.get('kernel ' + key, 0)).strip()})")
    print("\ngust's share by function (innermost gust frame; helpers, allocator and kernel below it included):\n")
    for symbol, count in gust_self.most_common(15):
        print(f"  {pct(count)}  {symbol[:130]}")
    print("\nWho calls memcpy, malloc and free (innermost named-crate caller):\n")
    for (symbol, caller), count in libc_callers.most_common(12):
        print(f"  {pct(count)}  {symbol:<24} from {caller[:110]}")
    print(f"\nTop {top} gust functions, inclusive (time in them and what they call):\n")
    for symbol, count in inclusive.most_common(top):
        print(f"  {pct(count)}  {symbol[:140]}")


if __name__ == "__main__":
    main()
