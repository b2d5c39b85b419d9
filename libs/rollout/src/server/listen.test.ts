// listenOn: a taken port and an address this machine lacks are UserErrors that say what to change; the server
// listens otherwise.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isUserError } from '@lwz/core';
import { listenOn } from './listen';

it('listens, and names a port in use, an address this machine does not have, or a host name that does not resolve', async () => {
  const first = createServer();
  await listenOn(first, 0, '127.0.0.1');
  const port = (first.address() as AddressInfo).port;
  const second = createServer();
  try {
    const taken = await listenOn(second, port, '127.0.0.1').catch((e: unknown) => e);
    expect(isUserError(taken)).toBe(true);
    expect((taken as Error).message).toBe(
      `cannot listen on 127.0.0.1:${port}: the port is in use (another server, or an earlier one still running); choose another --port`,
    );
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine
    const absent = await listenOn(second, 0, '192.0.2.1').catch((e: unknown) => e);
    expect((absent as Error).message).toMatch(
      /^cannot listen on 192\.0\.2\.1:0: this machine has no such address; use --host 127\.0\.0\.1/,
    );
    // a host name that does not resolve (.invalid never does, RFC 2606); offline, the lookup may fail instead
    const unknown = await listenOn(second, 0, 'nosuchhost.invalid').catch((e: unknown) => e);
    expect(isUserError(unknown)).toBe(true);
    expect((unknown as Error).message).toMatch(
      /^cannot listen on nosuchhost\.invalid:0: (no such host name|the host name could not be looked up)/,
    );
  } finally {
    await new Promise((done) => first.close(done));
  }
});
