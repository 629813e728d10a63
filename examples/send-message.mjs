// Sends one message through Hookyard with the official Svix SDK: only `serverUrl` changes.
// Usage: HOOKYARD_URL=http://localhost:8071 HOOKYARD_TOKEN=... node examples/send-message.mjs
import { Svix } from 'svix';

const svix = new Svix(process.env.HOOKYARD_TOKEN, {
  serverUrl: process.env.HOOKYARD_URL ?? 'http://localhost:8071',
});

const message = await svix.message.create('acme', {
  eventType: 'invoice.paid',
  payload: { type: 'invoice.paid', invoiceId: 'in_1042', amount: 4200 },
});
console.log(`sent ${message.id} (${message.eventType})`);
