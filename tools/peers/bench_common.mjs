// What the benchmark peers (bench_openai.mjs, bench_langgraph.mjs) share:
// their `--name value` argument parsing and the percentile rule of the C++
// benches (apps/cli/bench_table.cpp).

// Parses `--name value` pairs; prints `usage` and exits 2 on a malformed
// list or when one of `required` is missing.
export function parseArgs(argv, usage, required, script) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
      console.error(usage);
      process.exit(2);
    }
    opts[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of required) {
    if (opts[k] === undefined) {
      console.error(`${script}: --${k} is required\n${usage}`);
      process.exit(2);
    }
  }
  return opts;
}

// Nearest rank over ascending nanoseconds, in milliseconds.
export function percentileMs(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] / 1e6;
}
