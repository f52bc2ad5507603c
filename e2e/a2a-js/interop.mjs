// Drives a CodeTether host with an official @a2a-js/sdk client and prints one JSON object of what it saw.
// usage: node interop.mjs --sdk v03|v1 --transport JSONRPC|HTTP+JSON --base http://127.0.0.1:PORT --token T
//        --codebase ID [--hook http://127.0.0.1:PORT/hook]
// The host's worker runs prompts as shell commands, so the prompts below are commands.
import { randomUUID } from 'node:crypto';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const { sdk = 'v03', transport = 'JSONRPC', base, token, codebase, hook } = args;
const v1 = sdk === 'v1';
const mod = await import(v1 ? 'a2a-sdk-v1/client' : '@a2a-js/sdk/client');
const fetchImpl = (url, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(url, { ...init, headers });
};
const compat = v1 ? { legacyCompat: { enabled: true } } : {};
const factory = new mod.ClientFactory(mod.ClientFactoryOptions.createFrom(mod.ClientFactoryOptions.default, {
  transports: [new mod.JsonRpcTransportFactory({ fetchImpl, ...compat }), new mod.RestTransportFactory({ fetchImpl, ...compat })],
  cardResolver: new mod.DefaultAgentCardResolver({ fetchImpl, ...compat }),
  preferredTransports: [transport],
}));

const out = { sdk, transport, steps: {} };
const step = async (name, fn) => {
  try { out.steps[name] = { ok: true, ...(await fn()) }; }
  catch (e) { out.steps[name] = { ok: false, error: String(e?.message ?? e), type: e?.constructor?.name ?? null }; }
};

// v0.3 and v1.0 shapes of the same things.
const STATES = ['unspecified', 'submitted', 'working', 'completed', 'failed', 'canceled', 'input-required', 'rejected', 'auth-required'];
const state = (t) => (typeof t?.status?.state === 'number' ? STATES[t.status.state] : t?.status?.state);
const message = (text, extra = {}) => v1
  ? { messageId: randomUUID(), contextId: extra.contextId ?? '', taskId: extra.taskId ?? '', role: 1, extensions: [], referenceTaskIds: [],
      parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }], metadata: { codebase_id: codebase } }
  : { kind: 'message', messageId: randomUUID(), role: 'user', parts: [{ kind: 'text', text }], metadata: { codebase_id: codebase }, ...extra };
const send = (text, blocking) => v1
  ? { tenant: '', message: message(text), metadata: undefined,
      configuration: { acceptedOutputModes: ['text/plain'], taskPushNotificationConfig: undefined, historyLength: undefined, returnImmediately: !blocking } }
  : { message: message(text), configuration: { blocking, acceptedOutputModes: ['text/plain'] } };
const asTask = (r) => (v1 ? (r?.payload?.$case === 'task' ? r.payload.value : r?.task ?? r) : r);
const artifactText = (t) => (t?.artifacts ?? []).flatMap((a) => a.parts ?? []).map((p) => p.text ?? p?.content?.value ?? '').join('');
const kindOf = (e) => (v1 ? e?.payload?.$case : e?.kind);
const eventState = (e) => (v1 ? e?.payload?.value?.status?.state : e?.status?.state);
const idParams = (id) => (v1 ? { tenant: '', id } : { id });

let client;
await step('card', async () => {
  const card = await new mod.DefaultAgentCardResolver({ fetchImpl, ...compat }).resolve(base);
  client = await factory.createFromUrl(base);
  return { name: card.name, protocolVersion: card.protocolVersion ?? card.supportedInterfaces?.[0]?.protocolVersion, streaming: card.capabilities?.streaming };
});

await step('sendBlocking', async () => {
  const t = asTask(await client.sendMessage(send('echo interop-blocking', true)));
  return { state: state(t), text: artifactText(t), taskId: t.id, contextId: t.contextId };
});

let longTask;
await step('sendNonBlocking', async () => {
  const t = asTask(await client.sendMessage(send('sleep 30', false)));
  longTask = t.id;
  return { state: state(t), taskId: t.id };
});

await step('getTask', async () => {
  const t = await client.getTask(v1 ? { tenant: '', id: longTask, historyLength: 5 } : { id: longTask, historyLength: 5 });
  return { state: state(t), id: t.id, history: (t.history ?? []).length };
});

await step('cancelTask', async () => ({ state: state(await client.cancelTask(idParams(longTask))) }));
await step('cancelAgain', async () => ({ state: state(await client.cancelTask(idParams(longTask))) }));
await step('getMissing', async () => ({ state: state(await client.getTask(v1 ? { tenant: '', id: 'no-such-task' } : { id: 'no-such-task' })) }));

await step('stream', async () => {
  const kinds = []; const states = []; let text = '';
  for await (const e of client.sendMessageStream(send('echo streamed-1; sleep 0.3; echo streamed-2', true))) {
    kinds.push(kindOf(e));
    const s = eventState(e); if (s !== undefined) states.push(typeof s === 'number' ? STATES[s] : s);
    const a = v1 ? e?.payload?.value?.artifact : e?.artifact;
    if (a) text += (a.parts ?? []).map((p) => p.text ?? p?.content?.value ?? '').join('');
  }
  return { kinds, states, text };
});

await step('resubscribe', async () => {
  const t = asTask(await client.sendMessage(send('sleep 1; echo resubscribed', false)));
  const kinds = []; const states = [];
  for await (const e of client.resubscribeTask(idParams(t.id))) {
    kinds.push(kindOf(e));
    const s = eventState(e); if (s !== undefined) states.push(typeof s === 'number' ? STATES[s] : s);
  }
  const done = await client.getTask(v1 ? { tenant: '', id: t.id } : { id: t.id });
  return { kinds, states, finalState: state(done), text: artifactText(done) };
});

if (hook) {
  await step('pushConfig', async () => {
    const t = asTask(await client.sendMessage(send('sleep 30', false)));
    const config = { id: 'interop', url: hook, token: 'interop-token' };
    const set = v1
      ? await client.createTaskPushNotificationConfig({ tenant: '', taskId: t.id, ...config, authentication: undefined })
      : await client.setTaskPushNotificationConfig({ taskId: t.id, pushNotificationConfig: config });
    const got = v1
      ? await client.getTaskPushNotificationConfig({ tenant: '', taskId: t.id, id: 'interop' })
      : await client.getTaskPushNotificationConfig({ id: t.id, pushNotificationConfigId: 'interop' });
    await client.cancelTask(idParams(t.id)); // a state change the receiver hears about
    const url = (c) => c?.pushNotificationConfig?.url ?? c?.url;
    return { taskId: t.id, setUrl: url(set), getUrl: url(got) };
  });
}

console.log(JSON.stringify(out));
