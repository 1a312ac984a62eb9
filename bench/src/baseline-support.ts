/** What the bare baselines share: the port line, a clean exit on SIGTERM. */
import type { Server } from 'node:http';

export async function listen(server: Server, onClose: () => Promise<void> = async () => {}): Promise<void> {
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port, msg: 'baseline listening' })}\n`);
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void onClose().finally(() => process.exit(0));
  });
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`${name} is required\n`);
    process.exit(2);
  }
  return value;
}

export const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());
