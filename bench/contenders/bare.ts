/**
 * Contender "bare": the physical limit of this machine for the job. A `node:http` server parses the
 * JSON body, answers 202 and POSTs the payload on with undici (64 keep-alive connections per
 * receiver), storing nothing and signing nothing. No framework, no validation beyond JSON.parse, no
 * queue of its own (undici's per-origin queue holds what the 64 connections cannot take yet).
 *
 * Every other contender does at least this work, so the ratio to `bare` says how much of the machine
 * the rest of a design (durability, signing, bookkeeping) costs. A failed attempt is retried after
 * the scenario's delay, from memory, so the flaky scenario can complete; an event lives only in this
 * process (lost on any crash).
 */
import { newMessageId, readEnv } from './common.ts';
import { accept, createRawForwarder, serveRawIngest } from './raw-http.ts';

const env = readEnv();
const forwarder = createRawForwarder(env);

serveRawIngest(env, forwarder, (body, res) => {
  accept(res, newMessageId());
  for (let target = 0; target < forwarder.targets; target++) forwarder.forward(target, body);
});
