// Drives the mock LLM server with the vendors' official SDKs and checks that
// plain, streaming and tool-call exchanges parse without error and yield
// exactly what the scenario file says. This is what makes the mock a
// faithful stand-in for the real services.
//
//   node conformance.mjs BASE_URL SCENARIO_JSON
//
// Prints one line per case and ends with "conformance: N passed, M failed";
// exits 1 if any case failed (or the scenario lacks a rule it needs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';

const [base, scenarioPath] = process.argv.slice(2);
if (!base || !scenarioPath) {
  console.error('usage: node conformance.mjs BASE_URL SCENARIO_JSON');
  process.exit(2);
}
const scenario = JSON.parse(readFileSync(scenarioPath, 'utf8'));
const rule = (name) => {
  const r = scenario.rules.find((x) => x.name === name);
  if (!r) throw new Error(`scenario ${scenarioPath} has no rule named '${name}'`);
  return r;
};
const key = scenario.api_key;
const greeting = rule('greeting');
const weatherCall = rule('weather-call').reply.tool_calls[0];
const weatherAnswer = rule('weather-answer').reply.text;
const flaky = rule('flaky').reply.text;

const results = { passed: 0, failed: 0 };
async function check(name, fn) {
  try {
    await fn();
    results.passed += 1;
    console.log(`ok   ${name}`);
  } catch (err) {
    results.failed += 1;
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err}`);
  }
}

async function admin(path, method = 'GET') {
  const res = await fetch(`${base}/_mock/${path}`, { method });
  assert.equal(res.status, 200, `admin ${path}`);
  return res.json();
}

const weatherTool = {
  name: weatherCall.name,
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] },
};

// ---- OpenAI and OpenRouter: the same wire format, different roots and headers.
async function openaiCases(label, client) {
  const model = 'gpt-4o-mini';
  const hello = [{ role: 'user', content: 'Say hello, please.' }];
  const tools = [{ type: 'function', function: weatherTool }];
  const ask = [{ role: 'user', content: 'What is the weather in Paris?' }];

  await check(`${label} plain`, async () => {
    const r = await client.chat.completions.create({ model, messages: hello });
    assert.equal(r.choices[0].message.content, greeting.reply.text);
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.usage.prompt_tokens, greeting.usage.prompt_tokens);
    assert.equal(r.usage.completion_tokens, greeting.usage.completion_tokens);
  });
  await check(`${label} stream (raw chunks, include_usage)`, async () => {
    const stream = await client.chat.completions.create({
      model, messages: hello, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let usage = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      if (chunk.choices.length > 0) text += chunk.choices[0].delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(chunks > 2, `only ${chunks} chunks`);
    assert.equal(text, greeting.reply.text);
    assert.equal(usage?.total_tokens, greeting.usage.prompt_tokens + greeting.usage.completion_tokens);
  });
  await check(`${label} stream helper (finalChatCompletion)`, async () => {
    const final = await client.chat.completions.stream({ model, messages: hello }).finalChatCompletion();
    assert.equal(final.choices[0].message.content, greeting.reply.text);
  });
  await check(`${label} tool call`, async () => {
    const r = await client.chat.completions.create({ model, messages: ask, tools });
    const call = r.choices[0].message.tool_calls[0];
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.equal(call.function.name, weatherCall.name);
    assert.deepEqual(JSON.parse(call.function.arguments), weatherCall.arguments);
  });
  await check(`${label} tool call streamed (argument fragments)`, async () => {
    const final = await client.chat.completions.stream({ model, messages: ask, tools }).finalChatCompletion();
    const call = final.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, weatherCall.name);
    assert.deepEqual(JSON.parse(call.function.arguments), weatherCall.arguments);
  });
  await check(`${label} tool result`, async () => {
    const first = await client.chat.completions.create({ model, messages: ask, tools });
    const msg = first.choices[0].message;
    const r = await client.chat.completions.create({
      model, tools,
      messages: [...ask, msg, { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '{"temperature": 22}' }],
    });
    assert.equal(r.choices[0].message.content, weatherAnswer);
  });
  await check(`${label} embeddings (SDK default base64, and float)`, async () => {
    const b64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['the red fox', 'a dog'] });
    const flt = await client.embeddings.create({
      model: 'text-embedding-3-small', input: ['the red fox', 'a dog'], encoding_format: 'float',
    });
    assert.equal(b64.data.length, 2);
    assert.equal(b64.data[0].embedding.length, scenario.embedding_dimensions);
    for (let i = 0; i < 2; i += 1) {
      b64.data[i].embedding.forEach((v, d) => assert.ok(Math.abs(v - flt.data[i].embedding[d]) < 1e-6));
    }
  });
  await check(`${label} embeddings with dimensions (the vectors shortened to 4)`, async () => {
    const r = await client.embeddings.create({
      model: 'text-embedding-3-small', input: ['the red fox', 'a dog'], dimensions: 4,
    });
    assert.equal(r.data.length, 2);
    r.data.forEach((d) => assert.equal(d.embedding.length, 4));
    assert.notEqual(scenario.embedding_dimensions, 4);  // else nothing was shortened
  });
  await check(`${label} 400 names the field`, async () => {
    await assert.rejects(client.chat.completions.create({ model, messages: [] }), (err) => {
      assert.equal(err.status, 400);
      assert.match(err.message, /messages/);
      return true;
    });
  });
}

async function openaiRetry(label, root, headers) {
  await check(`${label} SDK retries a 429 (retry-after-ms) and succeeds`, async () => {
    await admin('reset', 'POST');
    const client = new OpenAI({ baseURL: root, apiKey: key, maxRetries: 2, defaultHeaders: headers });
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'a flaky one' }] });
    assert.equal(r.choices[0].message.content, flaky);
    const stats = await admin('stats');
    assert.equal(stats.rules.flaky, 2, 'one refused attempt plus one retry');
    assert.equal(stats.faults.rate_limit, 1);
  });
}

// ---- Anthropic
async function anthropicCases() {
  const client = new Anthropic({ baseURL: base, apiKey: key, maxRetries: 0 });
  const model = 'claude-mock-1';
  const hello = [{ role: 'user', content: 'Say hello, please.' }];
  const tools = [{ name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.parameters }];
  const ask = [{ role: 'user', content: 'What is the weather in Paris?' }];

  await check('anthropic plain', async () => {
    const r = await client.messages.create({ model, max_tokens: 100, messages: hello });
    assert.equal(r.content[0].type, 'text');
    assert.equal(r.content[0].text, greeting.reply.text);
    assert.equal(r.stop_reason, 'end_turn');
    assert.equal(r.usage.input_tokens, greeting.usage.prompt_tokens);
    assert.equal(r.usage.output_tokens, greeting.usage.completion_tokens);
  });
  await check('anthropic stream (raw event sequence)', async () => {
    const stream = await client.messages.create({ model, max_tokens: 100, messages: hello, stream: true });
    const types = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    assert.equal(text, greeting.reply.text);
    assert.equal(types[0], 'message_start');
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
  });
  await check('anthropic stream helper (finalMessage)', async () => {
    const final = await client.messages.stream({ model, max_tokens: 100, messages: hello }).finalMessage();
    assert.equal(final.content[0].text, greeting.reply.text);
    assert.equal(final.usage.output_tokens, greeting.usage.completion_tokens);
  });
  await check('anthropic tool_use', async () => {
    const r = await client.messages.create({ model, max_tokens: 100, messages: ask, tools });
    const block = r.content.find((b) => b.type === 'tool_use');
    assert.equal(r.stop_reason, 'tool_use');
    assert.equal(block.name, weatherCall.name);
    assert.deepEqual(block.input, weatherCall.arguments);
  });
  await check('anthropic tool_use streamed (input_json_delta)', async () => {
    const final = await client.messages.stream({ model, max_tokens: 100, messages: ask, tools }).finalMessage();
    const block = final.content.find((b) => b.type === 'tool_use');
    assert.equal(block.name, weatherCall.name);
    assert.deepEqual(block.input, weatherCall.arguments);
  });
  await check('anthropic tool_result', async () => {
    const first = await client.messages.create({ model, max_tokens: 100, messages: ask, tools });
    const use = first.content.find((b) => b.type === 'tool_use');
    const r = await client.messages.create({
      model, max_tokens: 100, tools,
      messages: [...ask, { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"temperature": 22}' }] }],
    });
    assert.equal(r.content[0].text, weatherAnswer);
  });
  await check('anthropic with x-api-key instead of a bearer token', async () => {
    const byHeader = new Anthropic({ baseURL: base, apiKey: null, authToken: null, maxRetries: 0,
      defaultHeaders: { 'x-api-key': key } });
    const r = await byHeader.messages.create({ model, max_tokens: 100, messages: hello });
    assert.equal(r.content[0].text, greeting.reply.text);
  });
  await check('anthropic 400 names the field', async () => {
    await assert.rejects(client.messages.create({ model, messages: hello }), (err) => {
      assert.equal(err.status, 400);
      assert.match(err.message, /max_tokens/);
      return true;
    });
  });
  await check('anthropic SDK retries a 429 and succeeds', async () => {
    await admin('reset', 'POST');
    const retrying = new Anthropic({ baseURL: base, apiKey: key, maxRetries: 2 });
    const r = await retrying.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'flaky' }] });
    assert.equal(r.content[0].text, flaky);
    assert.equal((await admin('stats')).rules.flaky, 2);
  });
}

// ---- Gemini
async function geminiCases() {
  const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: base } });
  const model = 'gemini-2.5-flash';
  const config = { tools: [{ functionDeclarations: [weatherTool] }] };
  const ask = 'What is the weather in Paris?';

  await check('gemini plain', async () => {
    const r = await ai.models.generateContent({ model, contents: 'Say hello, please.' });
    assert.equal(r.text, greeting.reply.text);
    assert.equal(r.candidates[0].finishReason, 'STOP');
    assert.equal(r.usageMetadata.promptTokenCount, greeting.usage.prompt_tokens);
    assert.equal(r.usageMetadata.candidatesTokenCount, greeting.usage.completion_tokens);
  });
  await check('gemini stream (alt=sse)', async () => {
    let text = '';
    let chunks = 0;
    for await (const chunk of await ai.models.generateContentStream({ model, contents: 'Say hello, please.' })) {
      chunks += 1;
      text += chunk.text ?? '';
    }
    assert.ok(chunks > 2, `only ${chunks} chunks`);
    assert.equal(text, greeting.reply.text);
  });
  await check('gemini functionCall', async () => {
    const r = await ai.models.generateContent({ model, contents: ask, config });
    assert.equal(r.functionCalls[0].name, weatherCall.name);
    assert.deepEqual(r.functionCalls[0].args, weatherCall.arguments);
  });
  await check('gemini functionCall streamed', async () => {
    const calls = [];
    for await (const chunk of await ai.models.generateContentStream({ model, contents: ask, config })) {
      calls.push(...(chunk.functionCalls ?? []));
    }
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0].args, weatherCall.arguments);
  });
  await check('gemini functionResponse', async () => {
    const r = await ai.models.generateContent({
      model, config,
      contents: [
        { role: 'user', parts: [{ text: ask }] },
        { role: 'model', parts: [{ functionCall: { name: weatherCall.name, args: weatherCall.arguments } }] },
        { role: 'user', parts: [{ functionResponse: { name: weatherCall.name, response: { temperature: 22 } } }] },
      ],
    });
    assert.equal(r.text, weatherAnswer);
  });
  await check('gemini embedContent (batchEmbedContents)', async () => {
    const r = await ai.models.embedContent({ model: 'text-embedding-004', contents: ['the red fox', 'a dog'] });
    assert.equal(r.embeddings.length, 2);
    assert.equal(r.embeddings[0].values.length, scenario.embedding_dimensions);
  });
  await check('gemini embedContent with outputDimensionality (the vectors shortened to 4)', async () => {
    const r = await ai.models.embedContent({
      model: 'text-embedding-004', contents: ['the red fox', 'a dog'], config: { outputDimensionality: 4 },
    });
    assert.equal(r.embeddings.length, 2);
    r.embeddings.forEach((e) => assert.equal(e.values.length, 4));
    assert.notEqual(scenario.embedding_dimensions, 4);
    const routes = (await admin('stats')).routes;
    assert.ok(routes['gemini.batch_embed_contents'] > 0, JSON.stringify(routes));
  });
  await check('gemini error (bad key) is an ApiError with the status', async () => {
    const bad = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: base } });
    await assert.rejects(bad.models.generateContent({ model, contents: 'hi' }), (err) => {
      assert.equal(err.status, 400);
      assert.match(err.message, /API key not valid/);
      return true;
    });
  });
}

const routerHeaders = { 'HTTP-Referer': 'https://agentgraph.invalid', 'X-Title': 'agentgraph conformance' };
try {
  await openaiCases('openai', new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0 }));
  await openaiRetry('openai', `${base}/v1`, {});
  await openaiCases('openrouter', new OpenAI({
    baseURL: `${base}/api/v1`, apiKey: key, maxRetries: 0, defaultHeaders: routerHeaders,
  }));
  await check('openrouter attribution headers arrived', async () => {
    const stats = await admin('stats');
    assert.ok(stats.headers['HTTP-Referer'] > 0 && stats.headers['X-Title'] > 0, JSON.stringify(stats.headers));
  });
  await anthropicCases();
  await geminiCases();
} catch (err) {
  results.failed += 1;
  console.log(`FAIL setup: ${err.stack ?? err}`);
}
console.log(`conformance: ${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed === 0 ? 0 : 1);
