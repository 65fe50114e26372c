// The peer of `agentgraph bench workflow`: the same two graphs in
// LangGraph.js (@langchain/langgraph), run one after the other in a closed
// loop, WARMUP runs first (not measured), then RUNS measured ones, each timed
// with process.hrtime around graph.invoke.
//
//   chain3:   n1 -> n2 -> n3                          (3 super-steps)
//   fanout10: first -> b0..b9 -> last, last joins all (3 super-steps)
//
// What a node does (--nodes):
//   model:    renders its prompt from the state, calls a FakeListChatModel
//             from @langchain/core (answers "pong" at once, no sleep) with
//             one HumanMessage and writes the answer's text to its own state
//             key: the counterpart of an agentgraph agent node over the
//             scripted provider.
//   function: returns {<its key>: "pong"}: the counterpart of an agentgraph
//             function node, the engine's own floor.
// --checkpointer none | memory (MemorySaver, LangGraph's in-memory saver;
// every run gets its own thread_id, as every agentgraph run does).
//
//   node bench_langgraph.mjs --graph chain3|fanout10 --nodes model|function \
//        --checkpointer none|memory --warmup W --runs R
//
// Prints one JSON line: {"runs", "steps", "p50_ms", "p99_ms",
// "per_step_us"} where per_step_us = p50_ms * 1000 / steps. Percentiles are
// nearest-rank, as in the C++ bench. A run whose final state lacks a node's
// output is an error: the script exits 1 rather than print figures.
import { Annotation, END, MemorySaver, START, StateGraph } from '@langchain/langgraph';
import { HumanMessage } from '@langchain/core/messages';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { parseArgs, percentileMs } from './bench_common.mjs';

const usage = 'usage: node bench_langgraph.mjs --graph chain3|fanout10 --nodes model|function '
  + '--checkpointer none|memory --warmup W --runs R';
const opts = parseArgs(process.argv.slice(2), usage,
  ['graph', 'nodes', 'checkpointer', 'warmup', 'runs'], 'bench_langgraph');
const warmup = Number(opts.warmup);
const runs = Number(opts.runs);
if (!['chain3', 'fanout10'].includes(opts.graph) || !['model', 'function'].includes(opts.nodes)
    || !['none', 'memory'].includes(opts.checkpointer) || !(runs >= 1) || !(warmup >= 0)) {
  console.error(usage);
  process.exit(2);
}

const model = new FakeListChatModel({ responses: ['pong'] });

// One node writing `key`.
function makeNode(key) {
  if (opts.nodes === 'function')
    return async () => ({ [key]: 'pong' });
  return async (state) => {
    const answer = await model.invoke([new HumanMessage(`Say pong about ${state.topic}.`)]);
    return { [key]: answer.content };
  };
}

// The graph, its node names (each writes "<name>_out") and its super-steps.
function build() {
  const names = opts.graph === 'chain3'
    ? ['n1', 'n2', 'n3']
    : ['first', ...Array.from({ length: 10 }, (_, i) => `b${i}`), 'last'];
  const channels = { topic: Annotation() };
  for (const n of names) channels[`${n}_out`] = Annotation();
  const g = new StateGraph(Annotation.Root(channels));
  for (const n of names) g.addNode(n, makeNode(`${n}_out`));
  if (opts.graph === 'chain3') {
    g.addEdge(START, 'n1').addEdge('n1', 'n2').addEdge('n2', 'n3').addEdge('n3', END);
  } else {
    const branches = names.slice(1, -1);
    g.addEdge(START, 'first');
    for (const b of branches) g.addEdge('first', b);
    g.addEdge(branches, 'last');  // a list of sources: `last` waits for all of them
    g.addEdge('last', END);
  }
  const checkpointer = opts.checkpointer === 'memory' ? new MemorySaver() : undefined;
  return { graph: g.compile({ checkpointer }), names, steps: 3 };
}

const { graph, names, steps } = build();
let thread = 0;

async function runOnce() {
  thread += 1;
  const config = { configurable: { thread_id: `t${thread}` } };
  const t0 = process.hrtime.bigint();
  const state = await graph.invoke({ topic: 'workflows' }, config);
  const ns = Number(process.hrtime.bigint() - t0);
  for (const n of names)
    if (state[`${n}_out`] !== 'pong') {
      console.error(`bench_langgraph: run ${thread}: node ${n} wrote ${JSON.stringify(state[`${n}_out`])}`);
      process.exit(1);
    }
  return ns;
}


for (let i = 0; i < warmup; i += 1) await runOnce();
const latencies = [];
for (let i = 0; i < runs; i += 1) latencies.push(await runOnce());
latencies.sort((a, b) => a - b);
const p50 = percentileMs(latencies, 0.5);
console.log(JSON.stringify({
  runs: latencies.length,
  steps,
  p50_ms: p50,
  p99_ms: percentileMs(latencies, 0.99),
  per_step_us: (p50 * 1000) / steps,
}));
