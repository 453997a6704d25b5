import { Readable } from 'node:stream';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';

/**
 * A request handler that answers every AWS JSON-protocol call with `200 {}`-like bodies, so a real SDK
 * client runs its whole middleware stack (serialise, sign, parse) without a network. Counts calls per
 * `X-Amz-Target` operation.
 */
export class StubHttpHandler {
  readonly calls = new Map<string, number>();
  constructor(private readonly answer: (operation: string, body: string) => unknown = () => ({})) {}

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const target = String(request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? 'unknown');
    const operation = target.split('.').pop() ?? target;
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    const raw: unknown = request.body;
    const text =
      typeof raw === 'string'
        ? raw
        : raw instanceof Uint8Array
          ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
          : '';
    const body = Buffer.from(JSON.stringify(this.answer(operation, text)));
    return {
      response: new HttpResponse({
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(body.length) },
        body: Readable.from([body]),
      }),
    };
  }

  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  count(operation: string): number {
    return this.calls.get(operation) ?? 0;
  }
  reset(): void {
    this.calls.clear();
  }
}

export const STUB_CLIENT_CONFIG = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
  maxAttempts: 1,
} as const;
