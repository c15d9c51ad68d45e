/**
 * What browsers load in place of `attachSinks.js` (package.json's `browser`
 * field): the Arrow log, the gRPC and Prometheus servers and the webhook
 * need Node.js, and a browser bundle must not pull them in.
 */
export async function attachSinks(): Promise<never> {
  throw new Error("polcaCallback: options 'log', 'serve' and 'alerts' need Node.js; in a browser, subscribe to events$ instead");
}
