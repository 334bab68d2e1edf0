/**
 * A small agent: keeps notes in its working memory, asks before acting, calls a tool, reacts
 * to signals, and exits. Run it against a running system (see examples/README.md).
 */
import { AdminClient, AgentClient, PolicyViolationError, serveTool } from '#client';

const servers = process.env.AGENTOS_NATS_URL ?? 'nats://127.0.0.1:4222';
const subjectPrefix = process.env.AGENTOS_SUBJECT_PREFIX ?? 'agentos';
const agentId = process.env.AGENT_ID ?? `notes-${process.pid}`;

// An operator (ring 0) registers the agent and a tool; agents cannot do this themselves.
const admin = await AdminClient.connect({ servers, subjectPrefix });
await admin.createAgent(agentId, 'writer');
const tool = await serveTool({
  servers,
  subjectPrefix,
  name: 'word_count',
  register: { description: 'counts the words of a text' },
  handler: ({ args }) => ({
    words: String(args.text ?? '')
      .split(/\s+/)
      .filter(Boolean).length,
  }),
});

const agent = await AgentClient.connect({ servers, subjectPrefix, agentId });
const stopListening = agent.onSignal((s) =>
  console.log(`signal ${s.signal} from ${s.source} (${s.outcome}) at position ${s.position}`),
);

await agent.write('/mem/working/notes.md', '# Notes\n');
await agent.write('/mem/working/notes.md', '- the kernel records every syscall\n', { mode: 'a' });
console.log(await agent.read('/mem/working/notes.md'));
console.log('stat:', await agent.stat('/mem/working/notes.md'));

const check = await agent.checkPolicy('word_count', { args: { text: 'hello' } });
if (check.allowed) {
  const result = await agent.exec<{ words: number }>('word_count', { text: await agent.read('/mem/working/notes.md') });
  console.log('word_count:', result.words);
} else {
  console.log('not allowed:', check.reason);
}

try {
  await agent.write('/policy/mine.yaml', 'nope');
} catch (err) {
  // /policy is read-only: a VfsError (3); a policy refusal would be a PolicyViolationError (-2)
  console.log(err instanceof PolicyViolationError ? 'policy said no' : `refused: ${(err as Error).message}`);
}

await agent.signal('SIGUSR1', { reason: 'checkpoint' });
await new Promise((r) => setTimeout(r, 100));
console.log('exit code:', await agent.exit(0));

stopListening();
await agent.disconnect();
await tool.stop();
await admin.disconnect();
