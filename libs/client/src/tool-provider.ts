import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Subjects, TOOL_NAME_PATTERN } from '#contracts';
import { AdminClient } from './admin-client.js';
import { openConnection, prefixed, type ConnectionOptions } from './nats-connection.js';

export interface ToolCall {
  agentId: string;
  args: Record<string, unknown>;
  inputPrompt?: string;
  /** Stable per agent request (agentId:requestId): use it to make a tool idempotent. */
  callId: string;
}

export interface ServeToolOptions extends ConnectionOptions {
  name: string;
  handler: (call: ToolCall) => unknown | Promise<unknown>;
  /** Queue group shared by this tool's providers (default `tool.<name>`). */
  queue?: string;
  /** Register the tool with the kernel first (admin subject). */
  register?: { description?: string };
}

export interface ServedTool {
  stop(): Promise<void>;
}

/**
 * Serves a tool on `agentos.v1.tool.<name>`: the kernel calls it for SYS_EXEC after policy
 * allowed it. The handler's value is the result; a thrown error becomes
 * `{ok: false, error: {type: <its class name>, message}}`, which the agent sees as -500.
 */
export async function serveTool(o: ServeToolOptions): Promise<ServedTool> {
  if (!TOOL_NAME_PATTERN.test(o.name)) throw new TypeError(`tool name must match ${TOOL_NAME_PATTERN}`);
  const { nc, owned } = await openConnection(o);
  if (o.register) {
    const admin = await AdminClient.connect({ nc, subjectPrefix: o.subjectPrefix });
    await admin.registerTool(o.name, o.register.description);
  }
  const sub: Subscription = nc.subscribe(prefixed(Subjects.tool(o.name), o.subjectPrefix), {
    queue: o.queue ?? `tool.${o.name}`,
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      void answer(o, msg.data).then((reply) => msg.respond(JSON.stringify(reply)));
    },
  });
  await nc.flush();
  return {
    async stop() {
      await sub.drain();
      if (owned) await nc.drain();
    },
  };
}

async function answer(o: ServeToolOptions, data: Uint8Array): Promise<unknown> {
  let call: ToolCall;
  try {
    call = JSON.parse(new TextDecoder().decode(data)) as ToolCall;
    if (
      typeof call !== 'object' ||
      call === null ||
      typeof call.agentId !== 'string' ||
      typeof call.callId !== 'string'
    ) {
      throw new Error('expected {agentId, args, inputPrompt?, callId}');
    }
    call.args ??= {};
  } catch (err) {
    return { ok: false, error: { type: 'InvalidRequest', message: (err as Error).message } };
  }
  try {
    return { ok: true, result: (await o.handler(call)) ?? null };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { ok: false, error: { type: e.constructor?.name || e.name || 'Error', message: e.message } };
  }
}

export type { NatsConnection };
