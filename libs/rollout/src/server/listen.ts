// Start an HTTP server listening, with the errors a user can fix named as such: the port taken, an address this
// machine does not have, a host name that does not resolve, a port below 1024 without the right to it. Shared by `serve` and `serve-rewards`.
import type { Server } from 'node:http';
import { UserError } from '@lwz/core';

const WHY: Record<string, string> = {
  EADDRINUSE: 'the port is in use (another server, or an earlier one still running); choose another --port',
  EADDRNOTAVAIL: 'this machine has no such address; use --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)',
  EACCES: 'not allowed (ports below 1024 need privileges); choose a port from 1024 up',
  ENOTFOUND: 'no such host name; use --host 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or an address of this machine',
  EAI_AGAIN: 'the host name could not be looked up (no name service answered); give --host as an address, e.g. 127.0.0.1 or 0.0.0.0',
};

/** A host as a URL writes it: an IPv6 address in brackets. */
export const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** server.listen(port, host), resolved once listening; a listen error rejects (a UserError where WHY knows it). */
export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const why = e.code ? WHY[e.code] : undefined;
      reject(why ? new UserError(`cannot listen on ${host}:${port}: ${why}`) : e);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
