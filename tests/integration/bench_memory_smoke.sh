#!/bin/bash
# `agentgraph bench memory --quick`: the benchmark runs end to end and prints
# a row with figures for both durabilities at each concurrency, the commit
# rows with their commits and ratio, valid --json, with --fill a row per
# shard size, the embedder rows (issue 13: hash-256 against the mock's
# model through a provider, batching off and on) and the index rows (issue
# 13: hash-256 with the sparse rule on and off, clustered-384; 3000 entries
# under --quick). Behaviour only
# (exit code, rows, fields), never a timing.
set -uo pipefail
cli="$1"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$cli" bench memory --quick --concurrency 1,8 >"$work/out" 2>&1
rc=$?
cat "$work/out"
[ "$rc" -eq 0 ] || fail "bench memory --quick exited $rc"
# stores, stores/s, p50, p99, commits, per commit, vs snapshot
num='200 +[0-9]+ +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +[0-9]+ +[0-9]+\.[0-9] +[0-9]+\.[0-9]{3}x$'
for c in 1 8; do
  grep -qE "^snapshot, $c +$num" "$work/out" || fail "no figures for snapshot, $c"
  for w in 0ms 2ms; do
    grep -qE "^commit $w, $c +$num" "$work/out" || fail "no figures for commit $w, $c"
    # Every store was committed: at least one commit, and the stores of the
    # row (warm-up included) in them.
    grep -E "^commit $w, $c " "$work/out" | awk '{exit !($8 >= 1 && $8 * $9 >= 200)}' \
      || fail "commit $w, $c: commits do not cover the stores"
  done
done
grep -q "ERRORS" "$work/out" && fail "some stores failed"
# data, entries, sparse, hnsw, insert/s, p50, p99, recall@10, ef, B/entry,
# exact p50, exact insert/s, exact B/entry
f='[0-9]+(\.[0-9]+)?'
grep -qE "^hash-256 text +3000 +exact +no +$f +$f +$f +1\.000 +0 +$f +$f +$f +$f$" "$work/out" \
  || fail "no index row for hash-256 text (sparse: exact)"
grep -qE "^hash-256 text +3000 +hnsw +yes +$f +$f +$f +[01]\.[0-9]{3} +[0-9]+ +$f +$f +$f +$f$" \
  "$work/out" || fail "no index row for hash-256 text (sparse: hnsw)"
grep -qE "^clustered-384 +3000 +exact +yes +$f +$f +$f +[01]\.[0-9]{3} +[0-9]+ +$f +$f +$f +$f$" \
  "$work/out" || fail "no index row for clustered-384"

"$cli" bench memory --quick --concurrency 4 --json >"$work/json" 2>&1 || fail "--json exited $?"
python3 - "$work/json" <<'PY' || fail "--json: not the expected document"
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {r["durability"] + str(r.get("commit_window_ms", "")): r for r in doc["rows"]}
assert set(rows) == {"snapshot", "commit0", "commit2"}, rows
for r in rows.values():
    assert r["concurrency"] == 4 and r["stores"] == 200 and r["errors"] == 0, r
    assert r["stores_per_second"] > 0 and r["p99_ms"] >= r["p50_ms"], r
for k in ("commit0", "commit2"):
    assert rows[k]["commits"] >= 1 and rows[k]["committed_changes"] >= 200, rows
    assert 0 < rows[k]["vs_snapshot"], rows
assert rows["snapshot"]["commits"] == 0 and rows["snapshot"]["vs_snapshot"] == 1.0, rows
index = doc["index_rows"]
assert [(r["data"], r["exact_search_sparse"]) for r in index] == \
    [("hash-256 text", True), ("hash-256 text", False), ("clustered-384", True)], index
for r in index:
    assert r["entries"] == 3000 and r["queries"] == 50, r
    assert r["insert_per_s"] > 0 and r["recall_p99_us"] >= r["recall_p50_us"] > 0, r
    assert 0 <= r["recall_at_10"] <= 1 and r["bytes_per_entry"] > 0, r
    assert r["exact_p50_us"] > 0 and r["exact_bytes_per_entry"] > 0, r
# The exact scan is its own ground truth; the other two rows are HNSW.
assert not index[0]["hnsw"] and index[0]["recall_at_10"] == 1.0, index[0]
assert index[1]["hnsw"] and index[2]["hnsw"], index
# The embedder rows: hash-256 in the shard, then the mock's model through
# the provider, one HTTP request per text without batching, fewer with it.
embed = doc["embed_rows"]
assert [r["batch_window_ms"] for r in embed] == [-1, 0, 5], embed
for r in embed:
    assert r["store_errors"] == 0 and r["recall_errors"] == 0, r
    assert r["stores_per_s"] > 0 and r["store_p99_ms"] >= r["store_p50_ms"], r
    assert r["recalls_per_s"] > 0 and r["recall_p99_ms"] >= r["recall_p50_ms"], r
assert embed[0]["http_requests"] == 0, embed[0]
assert embed[1]["http_requests"] == 220, embed[1]  # 200 stores and 20 warm-up
assert 1 <= embed[2]["http_requests"] < 220, embed[2]
# The top level: the largest HNSW row under the shard's defaults.
for k in ("entries", "insert_per_s", "recall_p50_us", "recall_p99_us", "recall_at_10",
          "exact_p50_us", "bytes_per_entry"):
    assert doc[k] == index[2][k], (k, doc.get(k))
PY

# --fill: one row per size, each with figures, a shard that stayed at its
# size (every store evicted one) and a ratio to the first size; in --json
# under a key of its own, so "rows" keeps its shape.
"$cli" bench memory --quick --concurrency 1 --fill 50,400 --no-index --no-embed >"$work/fill" 2>&1
rc=$?
cat "$work/fill"
[ "$rc" -eq 0 ] || fail "bench memory --fill exited $rc"
# fill, load s, stores, stores/s, p50, p99, entries, B/entry, vs first
for n in 50 400; do
  grep -qE "^$n +[0-9]+\.[0-9]{2} +200 +[0-9]+ +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +$n +[0-9]+ +[0-9]+\.[0-9]{3}x$" \
    "$work/fill" || fail "no figures for fill $n"
done
grep -qE "^50 .* 1\.000x$" "$work/fill" || fail "the first fill is not its own baseline"
grep -q "ERRORS" "$work/fill" && fail "some fill stores failed"
"$cli" bench memory --quick --concurrency 2 --fill 30,300 --fill-index hnsw --json --no-index --no-embed \
  >"$work/fjson" 2>&1 || fail "--fill --json exited $?"
python3 - "$work/fjson" <<'PY' || fail "--fill --json: not the expected document"
import json, sys
doc = json.load(open(sys.argv[1]))
assert {r["durability"] + str(r.get("commit_window_ms", "")) for r in doc["rows"]} \
    == {"snapshot", "commit0", "commit2"}, doc["rows"]
fills = doc["fill_rows"]
assert [r["fill"] for r in fills] == [30, 300], fills
for r in fills:
    assert r["index"] == "hnsw" and r["concurrency"] == 1, r
    assert r["stores"] == 200 and r["errors"] == 0 and r["stores_per_second"] > 0, r
    # 20 warm-up + 200 measured stores into a full shard: one eviction each.
    assert r["entries"] == r["fill"] and r["evictions"] == 220, r
    assert r["load_seconds"] >= 0 and r["p99_ms"] >= r["p50_ms"] and r["vs_first_fill"] > 0, r
    assert r["bytes_per_entry"] > 0, r
assert fills[0]["vs_first_fill"] == 1.0, fills
PY
"$cli" bench memory --quick --concurrency 4 --json --no-index >"$work/nofill" 2>&1
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "fill_rows" not in d and "index_rows" not in d' "$work/nofill" \
  || fail "fill_rows without --fill, or index_rows with --no-index"

expect_usage() {  # expect_usage PATTERN -- args...
  local pattern="$1"; shift 2
  "$cli" "$@" >"$work/u" 2>&1; local rc=$?
  if [ "$rc" -ne 2 ] || ! grep -qE -- "$pattern" "$work/u"; then
    fail "$* -> rc=$rc (want 2)"; cat "$work/u"
  fi
}
expect_usage "agentgraph bench memory" -- bench
expect_usage "--stores must be in" -- bench memory --stores 0
expect_usage "--concurrency" -- bench memory --concurrency 0
expect_usage "--fill: '0' is not a count" -- bench memory --fill 0
expect_usage "--fill: 'x' is not a count" -- bench memory --fill 1000,x
expect_usage "--fill: '' is not a count" -- bench memory --fill 1000,
expect_usage "--fill: '2000000' is not a count" -- bench memory --fill 2000000
expect_usage "--fill: at most 8 sizes" -- bench memory --fill 1,2,3,4,5,6,7,8,9
expect_usage "--fill-index must be exact or hnsw" -- bench memory --fill 10 --fill-index flat
expect_usage "--index-sizes: '0' is not a count" -- bench memory --index-sizes 0
expect_usage "--index-sizes: at most 4 sizes" -- bench memory --index-sizes 1,2,3,4,5
expect_usage "--index-dims: at least 16" -- bench memory --index-dims 8
expect_usage "--index-dims: '5000' is not a count" -- bench memory --index-dims 5000
expect_usage "--index-queries must be in" -- bench memory --index-queries 0
exit $((fails > 0))
