// A real redis-server for the queue tests: on 127.0.0.1, on a free port, without
// persistence (a restart loses everything, like a fresh server), stopped after the tests.
// Without redis-server the tests skip, unless GPT_REQUIRE_REDIS=1 (CI) makes that a failure.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

export const REDIS_AVAILABLE = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
export const REDIS_REQUIRED = process.env.GPT_REQUIRE_REDIS === '1';
export const REDIS_MISSING_MESSAGE = 'redis-server is not installed (apt-get install redis-server); GPT_REQUIRE_REDIS=1 makes that a failure';

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  private process: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.startProcess();
    return server;
  }

  url(db = 0): string {
    return `redis://127.0.0.1:${this.port}/${db}`;
  }

  private async startProcess(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on port ${this.port} did not start within 10 s:\n${output}`)), 10_000);
      const poll = setInterval(() => {
        const probe = spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' });
        if (probe.stdout?.trim() === 'PONG') {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }
      }, 50);
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      child.once('exit', (code) => {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`redis-server exited with code ${code}:\n${output}`));
      });
    });
    child.removeAllListeners('exit');
  }

  /** Stops the server (its data is gone: no persistence). */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** A restart on the same port: an empty server, as after a crash of a Redis without persistence. */
  async restart(pauseMs = 500): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await this.startProcess();
  }
}
