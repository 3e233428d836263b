// Runs one AG-UI turn with @ag-ui/client's HttpAgent against graph_agents' POST /ag-ui,
// then prints what the client saw as JSON: event types, messages, state, result, and
// the interrupts of a paused run. A second turn (resume) answers those interrupts.
//
//   node run_agent.mjs <url> <threadId> <user text> [approve|reject]
import { HttpAgent } from "@ag-ui/client";

const [url, threadId, text, answer] = process.argv.slice(2);
const agent = new HttpAgent({ url, threadId });
agent.messages = [{ id: "user-1", role: "user", content: text }];

async function turn(parameters) {
  const events = [];
  let finished = null;
  const errors = [];
  const run = await agent.runAgent(parameters, {
    onEvent({ event }) { events.push(event); },
    onRunFinishedEvent({ event }) { finished = event; },
    onRunErrorEvent({ event }) { errors.push(event.message); },
  });
  return { events, finished, errors, result: run.result, newMessages: run.newMessages };
}

const first = await turn({ runId: "run-1" });
const out = { first: summarize(first), state: agent.state, messages: agent.messages };
const interrupts = first.finished?.outcome?.type === "interrupt" ? first.finished.outcome.interrupts : [];
if (answer && interrupts.length) {
  const resume = interrupts.map((i) => ({
    interruptId: i.id, status: "resolved", payload: { approve: answer === "approve" },
  }));
  const second = await turn({ runId: "run-2", resume });
  out.second = summarize(second);
  out.state = agent.state;
  out.messages = agent.messages;
}
console.log(JSON.stringify(out));

function summarize(t) {
  return {
    types: t.events.map((e) => e.type),
    subagents: t.events.filter((e) => e.subagentRunId).map((e) => [e.type, e.subagentRunId]),
    outcome: t.finished?.outcome ?? null,
    result: t.result ?? null,
    errors: t.errors,
  };
}
