import type { Msg } from '@nats-io/transport-node';
import { Subjects, TOOL_NAME_PATTERN } from '#contracts';
import { AdminClient } from './admin-client.js';
import { openConnection, prefixed, type ConnectionOptions } from './nats-connection.js';
import { parseToolCall, toolFailure, type ToolCall, type ToolReply } from './tool-call.js';

export interface ServeToolOptions extends ConnectionOptions {
  /** The tool's name: one subject token (`^[A-Za-z0-9_-]{1,128}$`), as agents pass it to SYS_EXEC. */
  name: string;
  /** The tool itself: its value is the result, what it throws is the failure the agent sees. */
  handler: (call: ToolCall) => unknown;
  /** Queue group shared by this tool's providers, so each call goes to one of them (default `tool.<name>`). */
  queue?: string;
  /** Also register the tool with the kernel (through the admin subject), so agents may call it. */
  register?: { description?: string };
}

export interface ServedTool {
  /** Stops taking calls, answers the ones in progress, then closes the connection if it was opened here. */
  stop(): Promise<void>;
}

/**
 * Serves a tool on `agentos.v1.tool.<name>`: the kernel calls it for SYS_EXEC once policy allowed
 * it. The handler's value is sent as `{ok: true, result}`; a thrown error as `{ok: false, error:
 * {type: <its class name>, message}}`, which the agent gets as -500; a malformed call is answered
 * `{ok: false, error: {type: 'InvalidRequest', message}}` without running the handler.
 */
export async function serveTool(o: ServeToolOptions): Promise<ServedTool> {
  if (typeof o.name !== 'string' || !TOOL_NAME_PATTERN.test(o.name)) {
    throw new TypeError(`tool name must match ${TOOL_NAME_PATTERN}: ${JSON.stringify(o.name)}`);
  }
  const { nc, owned } = await openConnection(o);
  const inFlight = new Set<Promise<void>>();
  const sub = nc.subscribe(prefixed(Subjects.tool(o.name), o.subjectPrefix), {
    queue: o.queue ?? `tool.${o.name}`,
    callback: (err, msg) => {
      if (err || !msg.reply) return; // nobody to answer: the kernel always asks with a reply subject
      const answering = answer(o.handler, msg).finally(() => inFlight.delete(answering));
      inFlight.add(answering);
    },
  });
  const stop = async () => {
    if (!sub.isClosed()) await sub.drain();
    await Promise.allSettled([...inFlight]);
    if (owned && !nc.isClosed() && !nc.isDraining()) await nc.drain();
  };
  try {
    await nc.flush();
    // Registered only once served: an agent never finds the tool registered with nobody serving it.
    if (o.register) {
      const admin = await AdminClient.connect({ nc, subjectPrefix: o.subjectPrefix });
      await admin.registerTool(o.name, o.register.description);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

async function answer(handler: ServeToolOptions['handler'], msg: Msg): Promise<void> {
  const parsed = parseToolCall(msg.data);
  let reply: ToolReply;
  if ('invalid' in parsed) {
    reply = { ok: false, error: { type: 'InvalidRequest', message: parsed.invalid } };
  } else {
    try {
      reply = { ok: true, result: (await handler(parsed.call)) ?? null };
    } catch (err) {
      reply = toolFailure(err);
    }
  }
  let body: string;
  try {
    body = JSON.stringify(reply);
  } catch (err) {
    // A result JSON cannot carry (a cycle, a BigInt) is the tool's failure, not the provider's crash.
    body = JSON.stringify(toolFailure(err));
  }
  try {
    msg.respond(body);
  } catch {
    // The connection closed under us; the kernel's request times out and the agent sees that.
  }
}
