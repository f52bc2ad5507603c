// The @a2a-js/sdk 0.3.14 reference server with an in-memory sample agent, as the SDK's README builds it
// (DefaultRequestHandler + InMemoryTaskStore + an AgentExecutor, served by the SDK's Express JSON-RPC handler).
// bench/CodeTether.Bench's `a2a` scenario starts it as a child process and drives it with the same load generator as the host.
// usage: node server.mjs --port 4000 [--token benchtoken]
import express from 'express';
import { randomUUID } from 'node:crypto';
import { AGENT_CARD_PATH } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const port = Number(args.port ?? 4000);
const token = args.token ?? 'benchtoken';
const base = `http://127.0.0.1:${port}`;

const card = {
  name: 'Bench Sample Agent',
  description: 'The @a2a-js/sdk in-memory sample agent: answers every message with working, then a completed message.',
  protocolVersion: '0.3.0',
  version: '0.1.0',
  url: `${base}/a2a/jsonrpc`,
  preferredTransport: 'JSONRPC',
  skills: [{ id: 'echo', name: 'Echo', description: 'Says hello', tags: ['bench'] }],
  capabilities: { streaming: true, pushNotifications: false, stateTransitionHistory: false },
  defaultInputModes: ['text'],
  defaultOutputModes: ['text'],
};

// The task (submitted), a `working` status, then the final `completed` status carrying the agent's answer.
class SampleExecutor {
  async execute(ctx, bus) {
    const { taskId, contextId, userMessage, task } = ctx;
    const now = () => new Date().toISOString();
    if (!task) {
      bus.publish({ kind: 'task', id: taskId, contextId, status: { state: 'submitted', timestamp: now() }, history: [userMessage] });
    }
    bus.publish({ kind: 'status-update', taskId, contextId, status: { state: 'working', timestamp: now() }, final: false });
    bus.publish({
      kind: 'status-update', taskId, contextId, final: true,
      status: {
        state: 'completed', timestamp: now(),
        message: { kind: 'message', role: 'agent', messageId: randomUUID(), taskId, contextId, parts: [{ kind: 'text', text: 'Hello, world!' }] },
      },
    });
    bus.finished();
  }

  cancelTask = async () => {};
}

const requestHandler = new DefaultRequestHandler(card, new InMemoryTaskStore(), new SampleExecutor());
const app = express();
// The same bearer token check the host does (a constant-time compare is not worth it for a bench).
const auth = (req, res, next) => (req.get('authorization') === `Bearer ${token}` ? next() : res.status(401).json({ error: 'unauthorized' }));
app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: requestHandler }));
app.use('/a2a/jsonrpc', auth, jsonRpcHandler({ requestHandler, userBuilder: UserBuilder.noAuthentication }));
app.listen(port, '127.0.0.1', () => console.log(`a2a-js reference server listening on ${base}`));
