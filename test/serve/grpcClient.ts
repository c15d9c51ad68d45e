/** Small gRPC client helpers for the serving tests (not a test file). */
import * as grpc from '@grpc/grpc-js';
import { loadPolcaProto } from '../../src/serve/polcaProto.js';
import type { PolcaClient } from '../../src/serve/generated/polca/v1/Polca.js';
import type { Event__Output } from '../../src/serve/generated/polca/v1/Event.js';
import type { SubscribeRequest } from '../../src/serve/generated/polca/v1/SubscribeRequest.js';
import type { Run__Output } from '../../src/serve/generated/polca/v1/Run.js';
import type { ListClustersRequest } from '../../src/serve/generated/polca/v1/ListClustersRequest.js';
import type { ListClustersResponse__Output } from '../../src/serve/generated/polca/v1/ListClustersResponse.js';
import type { GetTrajectoriesRequest } from '../../src/serve/generated/polca/v1/GetTrajectoriesRequest.js';
import type { Trajectories__Output } from '../../src/serve/generated/polca/v1/Trajectories.js';

export function polcaClient(port: number, options: grpc.ChannelOptions = {}): PolcaClient {
  const { polca } = loadPolcaProto();
  return new polca.v1.Polca(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    ...options,
  });
}

export function bearer(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return md;
}

export interface Collected {
  events: Event__Output[];
  status: grpc.StatusObject;
}

/** Subscribes and collects every message until the stream ends. */
export function collect(client: PolcaClient, request: SubscribeRequest, token?: string): Promise<Collected> {
  return new Promise((resolve) => {
    const events: Event__Output[] = [];
    const call = client.subscribe(request, bearer(token));
    call.on('data', (e: Event__Output) => events.push(e));
    call.on('error', () => {
      /* the status event carries it */
    });
    call.on('status', (status: grpc.StatusObject) => {
      // 'status' may precede the last 'data' events' delivery; wait for the stream end too.
      const done = () => resolve({ events, status });
      if (call.readableEnded || status.code !== grpc.status.OK) done();
      else call.once('end', done);
    });
  });
}

type Unary<Res> = Promise<{ error: grpc.ServiceError | null; response?: Res }>;

export function getRun(client: PolcaClient, token?: string): Unary<Run__Output> {
  return new Promise((resolve) => client.getRun({}, bearer(token), (error, response) => resolve({ error, response })));
}

export function listClusters(client: PolcaClient, req: ListClustersRequest, token?: string): Unary<ListClustersResponse__Output> {
  return new Promise((resolve) => client.listClusters(req, bearer(token), (error, response) => resolve({ error, response })));
}

export function getTrajectories(client: PolcaClient, req: GetTrajectoriesRequest, token?: string): Unary<Trajectories__Output> {
  return new Promise((resolve) => client.getTrajectories(req, bearer(token), (error, response) => resolve({ error, response })));
}

/** Sends raw bytes as the request of a server-streaming method; resolves with the final status. */
export function rawSubscribe(port: number, bytes: Buffer, token?: string): Promise<grpc.StatusObject> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(
      '/polca.v1.Polca/Subscribe',
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      bearer(token),
    );
    call.on('data', () => {});
    call.on('error', () => {});
    call.on('status', (s: grpc.StatusObject) => {
      client.close();
      resolve(s);
    });
  });
}
