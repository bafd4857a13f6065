/**
 * PostgreSQL settings from the URL or the environment: bad values are refused
 * with a clear message before any connection is tried, and a server that cannot
 * be reached is named without its password.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('PostgreSQL configuration', () => {
  it.each([
    ['postgres://u@127.0.0.1:1/db?pool=0', /pool size must be a positive integer/],
    ['postgres://u@127.0.0.1:1/db?pool=many', /pool size must be a positive integer/],
    ['postgres://u@127.0.0.1:1/db?statement_timeout=-5', /statement timeout must be a whole number of ms/],
  ])('%s is refused', async (url, message) => {
    await expect(openDatabase(url)).rejects.toThrow(message);
  });

  it('takes the pool size from DATABASE_POOL_SIZE when the URL has none', async () => {
    const before = process.env.DATABASE_POOL_SIZE;
    process.env.DATABASE_POOL_SIZE = '0';
    try {
      await expect(openDatabase('postgres://u@127.0.0.1:1/db')).rejects.toThrow(/pool size must be a positive integer, got '0'/);
    } finally {
      if (before === undefined) delete process.env.DATABASE_POOL_SIZE;
      else process.env.DATABASE_POOL_SIZE = before;
    }
  });

  it('an unreachable server is reported with the URL, password hidden', async () => {
    const port = await closedPort();
    const err = await openDatabase(`postgres://rollcall:s3cret@127.0.0.1:${port}/rollcall?sslmode=disable`).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`cannot connect to PostgreSQL at postgres://rollcall:\\*\\*\\*@127.0.0.1:${port}/rollcall`));
    expect((err as Error).message).not.toContain('s3cret');
  });
});
