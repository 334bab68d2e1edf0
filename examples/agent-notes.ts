/**
 * A small agent written with the SDK: it keeps notes in its working memory, asks the policy before
 * acting, calls a tool served in this same file, reacts to its signals, and exits.
 * Run it against a running system (see examples/README.md).
 */
import { AdminClient, AgentClient, PolicyViolationError, SyscallError, serveTool } from '#client';
import type { SignalNotice } from '#contracts';

const servers = process.env.AGENTOS_NATS_URL ?? 'nats://127.0.0.1:4222';
const subjectPrefix = process.env.AGENTOS_SUBJECT_PREFIX ?? 'agentos';
// Agent ids are never reused, so each run gets a new one unless told otherwise.
const agentId = process.env.AGENT_ID ?? `notes-${Date.now().toString(36)}`;
const notes = '/mem/working/notes.md';

// The operator's part (ring 0): register the agent and serve a tool. Agents cannot do either.
const admin = await AdminClient.connect({ servers, subjectPrefix });
await admin.createAgent(agentId, 'writer');
const wordCount = await serveTool({
  servers,
  subjectPrefix,
  name: 'word_count',
  register: { description: 'counts the words of a text' },
  handler: ({ args }) => {
    if (typeof args.text !== 'string') throw new TypeError('text must be a string');
    return { words: args.text.split(/\s+/).filter(Boolean).length };
  },
});

// The agent's part: every call below is a syscall, checked by policy and recorded in the log.
const agent = await AgentClient.connect({ servers, subjectPrefix, agentId });
let heardSignal: (notice: SignalNotice) => void = () => undefined;
const signalHeard = new Promise<SignalNotice>((resolve) => (heardSignal = resolve));
const stopListening = agent.onSignal((notice) => {
  console.log(`signal ${notice.signal} from ${notice.source} (${notice.outcome}), log position ${notice.position}`);
  heardSignal(notice);
});

try {
  await agent.write(notes, '# Notes\n');
  await agent.write(notes, '- the kernel records every syscall\n', { mode: 'a' });
  console.log(await agent.read(notes));
  console.log('stat:', await agent.stat(notes));

  const policy = await agent.getPolicy();
  console.log(`policy: ${policy.mode}, version ${policy.policyVersion ?? 'none'}`);

  // Ask first: a refused SYS_EXEC would be a violation, and by default violators are killed.
  const check = await agent.checkPolicy('word_count');
  if (check.allowed) {
    const { words } = await agent.exec<{ words: number }>('word_count', { text: await agent.read(notes) });
    console.log(`word_count: ${words} words`);
  } else {
    console.log(`word_count is not allowed: ${check.reason}`);
  }

  // Failures are typed: /policy is a read-only mount, so this is a VfsError (code 3).
  await agent.write('/policy/mine.yaml', 'nope').catch((err: unknown) => {
    if (err instanceof PolicyViolationError) console.log(`the policy said no: ${err.reason}`);
    else if (err instanceof SyscallError) console.log(`refused with ${err.name} (${err.code}): ${err.message}`);
    else throw err;
  });

  // SIGUSR1 does nothing by default, but every delivered signal is published to the agent.
  await agent.signal('SIGUSR1', { reason: 'checkpoint' });
  await Promise.race([signalHeard, new Promise((resolve) => setTimeout(resolve, 1_000))]);

  if ((await agent.checkPolicy('agent_exit')).allowed) console.log('exit code:', await agent.exit(0));
  else console.log('the policy does not let this agent exit; leaving it registered');
} finally {
  stopListening();
  await agent.close();
  await wordCount.stop();
  await admin.close();
}
