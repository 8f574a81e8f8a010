/**
 * The last step of `npm run up`: the demo run, seen through the admin API as an operator sees
 * it. Signs in as the demo platform admin, finds the run in Custodian's trace store by its run
 * id, shows the prompt masked, reveals it once (with a reason: the reveal is in the audit log,
 * hash-chained) and shows the audit event. Plain Node (fetch), no build step.
 *
 *   node scripts/demo-admin.js <graphql url> <email> <password file> <tenant id> <trace id>
 */
'use strict';
const { readFileSync } = require('node:fs');

const [url, email, passwordFile, tenantId, traceId] = process.argv.slice(2);

async function gql(query, variables, token) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const password = readFileSync(passwordFile, 'utf8').trim();
  const { login } = await gql(
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: email, p: password },
  );
  const token = login.accessToken;

  let trace;
  for (let i = 0; i < 60 && !trace; i++) {
    const data = await gql(
      `query($t: ID!, $id: String!) { trace(tenantId: $t, traceId: $id) {
         revealable spans { spanId name runId masked } } }`,
      { t: tenantId, id: traceId },
      token,
    ).catch(() => null);
    if (data?.trace?.spans?.length >= 4) trace = data.trace;
    else await sleep(500);
  }
  if (!trace) {
    console.log('  not in the trace store after 30 s (see the custodian log)');
    return;
  }
  const found = await gql(
    `query($t: ID!) { traces(tenantId: $t, filter: { runId: "demo-run-1" }, first: 1) {
       items { traceId spanCount error durationMs } } }`,
    { t: tenantId },
    token,
  );
  const top = found.traces.items[0];
  console.log(
    `  found by run_id=demo-run-1: trace ${top.traceId}, ${top.spanCount} spans, error=${top.error}, ${Math.round(top.durationMs)} ms`,
  );
  const llm = trace.spans.find((s) => s.masked.includes('gen_ai.input.messages'));
  if (!llm) {
    console.log('  (no restricted prompt on this trace)');
    return;
  }
  console.log(
    `  span "${llm.name}": masked for every role until revealed: ${llm.masked.join(', ')}`,
  );
  const { revealField } = await gql(
    `mutation($t: ID!, $tr: String!, $s: String!) {
       revealField(tenantId: $t, traceId: $tr, spanId: $s, key: "gen_ai.input.messages",
                   reason: "npm run up: showing the demo reveal") { value requestId } }`,
    { t: tenantId, tr: traceId, s: llm.spanId },
    token,
  );
  console.log(`  revealed (audited first): ${revealField.value}`);
  const { auditEvents } = await gql(
    `query($t: ID!) { auditEvents(filter: { tenantId: $t, action: "trace.reveal" }, first: 1) {
       items { seq action actorId reason requestId } } }`,
    { t: tenantId },
    token,
  );
  const ev = auditEvents.items[0];
  console.log(`  audit log: #${ev.seq} ${ev.action} by ${ev.actorId}, reason "${ev.reason}"`);
}

main().catch((err) => {
  console.log(`  admin API walk-through failed: ${err.message}`);
  process.exitCode = 1;
});
