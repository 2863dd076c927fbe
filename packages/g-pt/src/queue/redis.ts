// The Redis connection of the dataset queue. ioredis (and BullMQ) are imported here only
// when a queue command runs, so that the library and the single-machine generator never
// load them. A connection that cannot be made at the start fails within a few seconds
// with what was tried and why; once made, it reconnects for ever (a Redis restart is a
// pause for the queue, not an error).
import type { Redis } from 'ioredis';

/** Default BullMQ queue name of dataset generation. */
export const DEFAULT_QUEUE_NAME = 'gpt-data';
/** How long the first connection may take before the command gives up. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 4000;

/** Redis could not be reached at the start (nothing was enqueued or taken). */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/** A queue URL without its password, for messages and the queue's description. */
export function redactQueueUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.href;
  } catch {
    return url;
  }
}

/** Checks that `url` is a Redis URL (redis:// or rediss://, host, optional port and db); throws a TypeError saying what is wrong. */
export function checkQueueUrl(url: string, what = 'queue'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`${what} "${url}" is not a URL; give a Redis URL like redis://HOST:6379/0`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(`${what} "${redactQueueUrl(url)}" is not a Redis URL (redis:// or rediss://), e.g. redis://HOST:6379/0`);
  }
  if (!parsed.hostname) throw new TypeError(`${what} "${redactQueueUrl(url)}" names no host, e.g. redis://HOST:6379/0`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new TypeError(`${what} "${redactQueueUrl(url)}": the path must be a database number (e.g. /0), got "/${db}"`);
  return parsed;
}

export interface ConnectOptions {
  /** Give up the first connection after this long (default 4 s). */
  readonly connectTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called when an established connection drops and when it is back. */
  readonly onConnection?: (state: 'lost' | 'restored', error?: string) => void;
}

/**
 * Connects to Redis at `url` and resolves once it answers. `maxRetriesPerRequest: null`
 * is what BullMQ's workers need: a command issued while Redis is away waits for the
 * reconnection instead of failing.
 */
export async function connectRedis(url: string, options: ConnectOptions = {}): Promise<Redis> {
  checkQueueUrl(url);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const { Redis: RedisClient } = await import('ioredis');
  const client = new RedisClient(url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: Math.min(timeoutMs, 10_000),
    // Reconnect quickly at first, then every 2 s: a restarted Redis is found within seconds.
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  let lastError: Error | undefined;
  let ready = false;
  let lost = false;
  client.on('error', (error: Error) => {
    lastError = error;
    if (ready && !lost) {
      lost = true;
      options.onConnection?.('lost', error.message);
    }
  });
  client.on('ready', () => {
    if (lost) options.onConnection?.('restored');
    lost = false;
  });
  const where = redactQueueUrl(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const why = lastError ? `${lastError.message}` : 'no answer';
        reject(new RedisUnreachableError(`cannot reach Redis at ${where} within ${(timeoutMs / 1000).toFixed(0)} s (${why}); is redis-server running there and reachable from this machine?`));
      }, timeoutMs);
      const onAbort = (): void => reject(options.signal!.reason as Error);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      client.once('ready', () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      client.connect().catch((error: Error) => {
        lastError = error; // retried by retryStrategy until the timer fires
      });
    });
  } catch (error) {
    client.disconnect();
    throw error;
  }
  ready = true;
  return client;
}
