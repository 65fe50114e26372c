// The peer of `agentgraph bench llm`: the official `openai` SDK against the
// mock LLM server, with the same closed loop as the C++ rows: CONCURRENCY
// requests in flight, each completion starting the next, WARMUP requests
// first (not measured), then REQUESTS measured ones. Latency is timed with
// process.hrtime around client.chat.completions.create (the SDK builds the
// request, sends it through Node's fetch with keep-alive, parses the JSON).
//
//   node bench_openai.mjs --base-url URL --key KEY --model M --prompt TEXT \
//        --max-tokens N --concurrency C --warmup W --requests R
//
// Prints one JSON line: {"requests", "seconds", "p50_ms", "p99_ms", "errors",
// "first_error"}. Percentiles are nearest-rank, as in the C++ bench.
import OpenAI from 'openai';
import { parseArgs, percentileMs } from './bench_common.mjs';

const usage = 'usage: node bench_openai.mjs --base-url URL --key KEY --model M --prompt TEXT '
  + '--max-tokens N --concurrency C --warmup W --requests R';
const opts = parseArgs(process.argv.slice(2), usage,
  ['base-url', 'key', 'model', 'prompt', 'max-tokens', 'concurrency', 'warmup', 'requests'], 'bench_openai');
const concurrency = Number(opts.concurrency);
const warmup = Number(opts.warmup);
const requests = Number(opts.requests);
const maxTokens = Number(opts['max-tokens']);

const client = new OpenAI({ baseURL: opts['base-url'], apiKey: opts.key, maxRetries: 0, timeout: 30_000 });
const body = { model: opts.model, messages: [{ role: 'user', content: opts.prompt }], max_completion_tokens: maxTokens };

// Runs `count` requests, `concurrency` at a time; returns per-request ns.
async function loop(count) {
  const latencies = [];
  const state = { started: 0, errors: 0, firstError: '' };
  async function worker() {
    while (state.started < count) {
      state.started += 1;
      const t0 = process.hrtime.bigint();
      try {
        const r = await client.chat.completions.create(body);
        if (!r.choices || r.choices.length === 0) throw new Error('no choices in the answer');
      } catch (err) {
        state.errors += 1;
        if (!state.firstError) state.firstError = String(err && err.message ? err.message : err);
      }
      latencies.push(Number(process.hrtime.bigint() - t0));
    }
  }
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { latencies, seconds, ...state };
}


if (warmup > 0) await loop(warmup);
const r = await loop(requests);
const sorted = r.latencies.sort((a, b) => a - b);
console.log(JSON.stringify({
  requests: r.latencies.length,
  seconds: r.seconds,
  p50_ms: percentileMs(sorted, 0.5),
  p99_ms: percentileMs(sorted, 0.99),
  errors: r.errors,
  first_error: r.firstError,
}));
